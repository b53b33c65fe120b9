"""The Reconciler: one run from start to end - the providers paged in turn from where the run is, the
stuck-job sweep beside them - under the lock and checkpoints of continuation.py; and the weekly integrity
check. With `remaining_ms` a run stops between pages before the Lambda timeout (a checkpoint) and
`run(..., resume_from=checkpoint)` continues that same run."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from switchboard.models.reconcile import ReconcileRun
from switchboard.services.reconcile.continuation import RunControl, RunRecords
from switchboard.services.reconcile.integrity import IntegrityCheck, StoredDays
from switchboard.services.reconcile.paging import ExistingKeys, JobBatches, JobSender, ProviderPager
from switchboard.services.reconcile.sources import MessageSource
from switchboard.services.reconcile.sweep import StuckJobs, StuckJobSweep
from switchboard.services.store import EventStore


class Records(RunRecords, ExistingKeys, StuckJobs, StoredDays, Protocol):
    """Everything reconciliation reads and writes in the events table (dal/reconcile_records.py)."""


@dataclass
class Reconciler:
    sources: Mapping[str, MessageSource]
    records: Records
    store: EventStore
    jobs: JobBatches
    alert: Callable[[str, str], None] = lambda subject, message: None
    hand_off: Callable[[dict[str, Any]], None] | None = None  # the checkpoint -> a follow-up invocation
    clock: Callable[[], float] = time.time
    grace_seconds: int = 15 * 60  # a stored job younger than this may still be on its way
    lock_ttl_seconds: int = 16 * 60  # > the Lambda's 900 s timeout: a crashed run frees it at expiry
    safety_ms: int = 60_000  # stop paging when less than this remains of the invocation
    consistency_threshold: float = 0.999
    control: RunControl = field(init=False)
    pager: ProviderPager = field(init=False)
    sweeper: StuckJobSweep = field(init=False)

    def __post_init__(self) -> None:
        sender = JobSender(self.jobs)
        self.control = RunControl(self.records, self.clock, self.hand_off, self.lock_ttl_seconds)
        self.pager = ProviderPager(self.records, self.store, sender, self.control.save, self.clock)
        self.sweeper = StuckJobSweep(self.records, sender, self.clock, self.grace_seconds)

    def run(
        self,
        provider: str | Sequence[str] | None = None,
        window: timedelta = timedelta(hours=48),
        *,
        remaining_ms: Callable[[], int] | None = None,
        resume_from: Mapping[str, Any] | str | None = None,
    ) -> dict[str, Any]:
        """A new run (or the continuation of `resume_from`); its answer: completed, checkpointed, locked
        or skipped, with the run's summary."""

        def work(run: ReconcileRun) -> bool:
            return self._work(run, remaining_ms)

        if resume_from:
            return self.control.resume(resume_from, work)
        return self.control.start(lambda: self._new_run(provider, window), work)

    def requeue_stuck(self) -> int:
        return self.sweeper.requeue_stuck()

    def integrity_check(self, days: int = 7, providers: Sequence[str] | None = None) -> dict[str, Any]:
        check = IntegrityCheck(self.sources, self.records, self.alert, self.clock, self.consistency_threshold)
        return check.check(days, providers)

    def _new_run(self, provider: str | Sequence[str] | None, window: timedelta) -> ReconcileRun:
        if provider is None:
            providers = list(self.sources)
        else:
            providers = [provider] if isinstance(provider, str) else list(provider)
        unknown = [name for name in providers if name not in self.sources]
        if unknown:
            raise ValueError(f"no list source configured for provider(s): {', '.join(unknown)}")
        return ReconcileRun.start(providers, self.control.now(), window)

    def _work(self, run: ReconcileRun, remaining_ms: Callable[[], int] | None) -> bool:
        """Page the run's providers from where it is, the sweep beside them (once per run); True when it
        stopped at a checkpoint."""
        started = time.monotonic()
        run.segments += 1

        def budget_low() -> bool:
            return remaining_ms is not None and remaining_ms() < self.safety_ms

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile-sweep") as pool:
            # The caller's context goes along (contextvars: whose calls these are, for the IAM check).
            context = contextvars.copy_context()
            sweep = None if run.swept else pool.submit(context.run, self.sweeper.sweep, list(run.providers))
            checkpointed = self._page_providers(run, budget_low)
            self.sweeper.add_to(run, sweep)
        run.add_time(time.monotonic() - started)
        return checkpointed

    def _page_providers(self, run: ReconcileRun, budget_low: Callable[[], bool]) -> bool:
        while run.position < len(run.providers):
            source = self.sources[run.providers[run.position]]
            if self.pager.page_provider(run, source, budget_low):
                return True
            run.position += 1
            run.cursor = None
            if run.position < len(run.providers) and budget_low():
                return True
        return False
