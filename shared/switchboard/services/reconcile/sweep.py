"""The stuck-job sweep: re-enqueue every stored job older than the grace period that never reached
PROCESSED (RECEIVED, or PROCESSING with an expired lease), found through the unfinished-jobs index.

It runs once per run, beside the paging: paging waits on the providers' rate limits, so the sweep's queries
cost no wall time. Jobs the run stores are younger than the grace period, so the sweep never touches them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.models import Job
from switchboard.models.reconcile import ReconcileRun
from switchboard.observability import logger
from switchboard.services.reconcile.paging import SOURCE, JobSender

BATCH_SIZE = 10  # stuck jobs re-enqueued per SendMessageBatch
Counts = dict[str, dict[str, int]]  # {provider: {"requeued": n, "errors": n}}
Swept = tuple[int, Counts]  # (jobs re-enqueued, counts)


class StuckJobs(Protocol):
    def stuck_jobs(self, *, received_before_ms: int, now: float) -> Iterator[dict[str, Any]]: ...


@dataclass
class StuckJobSweep:
    records: StuckJobs
    sender: JobSender
    clock: Callable[[], float]
    grace_seconds: int

    def sweep(self, providers: Sequence[str]) -> Swept:
        counts = {name: {"requeued": 0, "errors": 0} for name in providers}
        return self.requeue_stuck(counts), counts

    def add_to(self, run: ReconcileRun, sweep: Future[Swept] | None) -> None:
        """Wait for the sweep and add its counts to the run. A sweep that failed is tried once more, now
        alone; failing again it is the run's error (the next run sweeps again), not its end."""
        if sweep is None:
            return
        run.swept = True
        try:
            requeued, counts = sweep.result()
        except Exception as exc:  # noqa: BLE001 - e.g. a throttled query; retried once, below
            logger.warning("stuck-job sweep failed; trying once more", error=str(exc))
            try:
                requeued, counts = self.sweep(list(run.stats))
            except Exception as again:  # noqa: BLE001 - counted: ReconcileRunFailed
                logger.exception("stuck-job sweep failed", error=str(again))
                run.sweep_failed = True
                return
        for name, values in counts.items():
            stats = run.stats[name]
            stats.requeued += values["requeued"]
            stats.errors += values["errors"]
        run.requeued = requeued

    def requeue_stuck(self, counts: Counts | None = None) -> int:
        """Re-enqueue the stuck jobs in batches of ten, counted by provider into `counts`. The worker's
        conditional claim makes a duplicate job harmless."""
        now = self.clock()
        cutoff_ms = int((now - self.grace_seconds) * 1000)
        pending: list[Job] = []
        requeued = 0

        def flush() -> None:
            nonlocal requeued
            failed = self.sender.enqueue(pending)
            for job in pending:
                counted = "errors" if job in failed else "requeued"
                if counts is not None and job.provider in counts:
                    counts[job.provider][counted] += 1
            requeued += len(pending) - len(failed)
            pending.clear()

        # Canaries (stored without a job) never enter the unfinished-jobs index: nothing to skip here.
        for item in self.records.stuck_jobs(received_before_ms=cutoff_ms, now=now):
            pending.append(stuck_job(item))
            if len(pending) == BATCH_SIZE:
                flush()
        flush()
        if requeued:
            logger.warning("re-enqueued stuck jobs", count=requeued)
        return requeued


def stuck_job(item: dict[str, Any]) -> Job:
    """The job message for a stored record found by the stuck-job sweep."""
    provider = str(item.get("provider") or str(item["pk"]).split("#")[1])
    return Job(
        pk=item["pk"],
        sk=item["sk"],
        provider=provider,
        kind=item.get("kind") or ("message" if item["sk"] == "MESSAGE" else "status"),
        provider_message_id=str(item.get("provider_message_id") or item["pk"].split("#", 2)[2]),
        source=SOURCE,
    )
