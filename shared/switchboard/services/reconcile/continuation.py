"""One reconciliation run at a time, across invocations: the lock, the run record, checkpoints and their
continuations.

- The lock (pk RECONCILE, sk LOCK) is taken by a conditional put with an expiry; a crashed run frees it
  at expiry.
- A run that stops before the time limit is checkpointed: its record keeps the next page's cursor, and
  the checkpoint goes to the follow-up invocation at once with `hand_off` (ReconcileFunction: its
  continuation queue). The lock is not released at a checkpoint: it passes to the token in the checkpoint,
  so no other run starts in between and a duplicate continuation finds it taken.
- A continuation of a run no longer checkpointed (a duplicate, or one an operator resumed already) is
  skipped, not repeated.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from switchboard.models.reconcile import Checkpoint, ReconcileRun, RunStatus, iso
from switchboard.observability import logger
from switchboard.services.reconcile.outcome import emit_outcome

Work = Callable[[ReconcileRun], bool]  # pages the run from where it is; True when it stopped at a checkpoint


class RunRecords(Protocol):
    def acquire_lock(
        self, owner: str, *, now: float, ttl_seconds: int, handed_to: str | None = None
    ) -> bool: ...
    def release_lock(self, owner: str) -> bool: ...
    def put_run(self, run: dict[str, Any]) -> None: ...
    def get_run(self, sk: str) -> dict[str, Any] | None: ...


class _NotCheckpointed(Exception):
    def __init__(self, sk: str, status: str | None) -> None:
        super().__init__(f"run {sk} is {status}, not checkpointed")
        self.sk, self.status = sk, status


@dataclass
class RunControl:
    records: RunRecords
    clock: Callable[[], float]
    hand_off: Callable[[dict[str, Any]], None] | None
    lock_ttl_seconds: int

    def save(self, run: ReconcileRun) -> None:
        self.records.put_run(run.to_record())

    def load(self, sk: str) -> ReconcileRun | None:
        record = self.records.get_run(sk)
        return None if record is None else ReconcileRun.from_record(record)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), tz=UTC)

    def start(self, new_run: Callable[[], ReconcileRun], work: Work) -> dict[str, Any]:
        """A new run under a new lock (`new_run` is made, and saved, once the lock is taken)."""
        owner = uuid.uuid4().hex
        if not self._acquire(owner):
            logger.warning("reconciliation already running: this run does not start")
            return {"status": "locked"}
        return self._locked(owner, lambda: self._saved(new_run()), work)

    def resume(self, resume_from: Mapping[str, Any] | str, work: Work) -> dict[str, Any]:
        """Continue a checkpointed run: take the lock from the token its checkpoint handed it to (or, when
        that expired, as any run would)."""
        sk = resume_from if isinstance(resume_from, str) else str(resume_from.get("run", ""))
        run = self.load(sk)
        if run is None:
            raise ValueError(f"no reconciliation run {sk!r} to resume")
        if run.status != RunStatus.CHECKPOINTED:
            logger.info("continuation skipped: the run is not checkpointed", run=sk, status=run.status.value)
            return {"status": "skipped", "run": sk, "run_status": run.status.value}
        owner = uuid.uuid4().hex
        if not self._acquire(owner, handed_to=run.checkpoint.lock if run.checkpoint else None):
            logger.warning("reconciliation locked: the continuation waits", run=sk)
            return {"status": "locked", "run": sk}
        return self._locked(owner, lambda: self._reopened(sk), work)

    def _acquire(self, owner: str, handed_to: str | None = None) -> bool:
        return self.records.acquire_lock(
            owner, now=self.clock(), ttl_seconds=self.lock_ttl_seconds, handed_to=handed_to
        )

    def _saved(self, run: ReconcileRun) -> ReconcileRun:
        self.save(run)
        return run

    def _reopened(self, sk: str) -> ReconcileRun:
        run = self.load(sk)  # read again under the lock: it may have moved on meanwhile
        if run is None or run.status != RunStatus.CHECKPOINTED:
            raise _NotCheckpointed(sk, None if run is None else run.status.value)
        run.status = RunStatus.RUNNING
        return run

    def _locked(self, owner: str, open_run: Callable[[], ReconcileRun], work: Work) -> dict[str, Any]:
        """Run under the lock `owner` holds; release it unless a checkpoint handed it on."""
        handed_on = False
        run: ReconcileRun | None = None
        try:
            run = open_run()
            if not work(run):
                return self._finish(run)
            checkpoint = self._checkpoint(run)
            handed_on = self._hand_over(owner, run.sk, checkpoint)
            return {
                "status": "checkpointed",
                "cursor": run.cursor,
                "checkpoint": checkpoint.model_dump(mode="json"),
                **run.summary(),
            }
        except _NotCheckpointed as skipped:
            return {"status": "skipped", "run": skipped.sk, "run_status": skipped.status}
        except Exception:
            if run is not None:
                self._fail(run)
            raise
        finally:
            if not handed_on:
                self.records.release_lock(owner)

    def _checkpoint(self, run: ReconcileRun) -> Checkpoint:
        run.status = RunStatus.CHECKPOINTED
        run.checkpoint = Checkpoint(
            run=run.sk,
            provider=run.providers[run.position],
            cursor=run.cursor,
            lock=uuid.uuid4().hex,  # the token the lock passes to: only this continuation takes it
        )
        self.save(run)
        logger.info("reconciliation checkpointed before the time limit", run=run.sk)
        return run.checkpoint

    def _hand_over(self, owner: str, sk: str, checkpoint: Checkpoint) -> bool:
        """Pass the lock to the checkpoint's token and ask for the follow-up invocation."""
        # False: it expired and another run took it; the continuation waits for it like any run
        passed = self.records.acquire_lock(
            checkpoint.lock, now=self.clock(), ttl_seconds=self.lock_ttl_seconds, handed_to=owner
        )
        if self.hand_off is not None:
            try:
                self.hand_off(checkpoint.model_dump(mode="json"))
            except Exception as exc:  # noqa: BLE001 - the lock expires; the checkpoint can be resumed by hand
                logger.exception("could not hand the checkpoint on", run=sk, error=str(exc))
        return passed

    def _finish(self, run: ReconcileRun) -> dict[str, Any]:
        run.status = RunStatus.COMPLETED
        run.done = 1.0
        run.finished = iso(self.now())
        run.duration_seconds = run.elapsed_seconds
        run.requeued = run.requeued or 0
        run.cursor = None
        run.checkpoint = None
        run.totals = run.totalled()
        self.save(run)
        emit_outcome(run.stats, failed=run.totals.errors > 0 or run.sweep_failed)
        logger.info("reconciliation finished", run=run.sk, totals=run.totals.model_dump())
        return {"status": "completed", **run.summary()}

    def _fail(self, run: ReconcileRun) -> None:
        """A run that crashed (the store itself failing, say): recorded as failed, counted for the alarm."""
        run.status = RunStatus.FAILED
        run.finished = iso(self.now())
        try:
            self.save(run)
        except Exception as exc:  # noqa: BLE001 - the original error is what gets raised
            logger.exception("could not record the failed run", run=run.sk, error=str(exc))
        emit_outcome(run.stats, failed=True)
