"""Paging through one provider's message list and storing what it lists that we never got, through the same
idempotent path as webhooks.

- Existence is checked per page with BatchGetItem (100 keys a request), never one read per message.
- Pages are fetched one ahead (read_ahead) while the current page is stored; the jobs of a page's new
  messages are enqueued with SendMessageBatch.
- The run record is saved after every page: progress an operator can watch, and the cursor a checkpoint
  resumes from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.canary import canary_token
from switchboard.dal.events_table import event_key
from switchboard.models import Direction, Event, Job, Message
from switchboard.models.reconcile import ProviderStats, ReconcileRun
from switchboard.observability import logger
from switchboard.read_ahead import ReadAhead
from switchboard.services.processing.delivery import listed_final_status
from switchboard.services.reconcile.sources import MessageSource
from switchboard.services.store import EventStore, store_event

SOURCE = "reconciliation"  # the `source` of what reconciliation stores and enqueues


class JobBatches(Protocol):
    def enqueue_jobs(self, jobs: Sequence[Job]) -> list[Job]: ...


class ExistingKeys(Protocol):
    def existing_keys(self, keys: Any) -> set[tuple[str, str]]: ...


@dataclass
class JobSender:
    jobs: JobBatches

    def enqueue(self, jobs: list[Job]) -> list[Job]:
        """SendMessageBatch for the jobs; those that still fail stay unfinished in the store (the
        unfinished-jobs index), where a later run's stuck-job sweep finds them."""
        if not jobs:
            return []
        failed = self.jobs.enqueue_jobs(jobs)
        for job in failed:
            logger.error("could not enqueue a job", pk=job.pk, provider=job.provider)
        return failed


@dataclass
class ProviderPager:
    records: ExistingKeys
    store: EventStore
    sender: JobSender
    save: Callable[[ReconcileRun], None]
    clock: Callable[[], float]

    def page_provider(self, run: ReconcileRun, source: MessageSource, budget_low: Callable[[], bool]) -> bool:
        """Page through the run's current provider from its cursor; True when it stopped at a checkpoint."""
        name = source.name
        start, end = run.window
        stats = run.stats[name]
        pacing_before = (source.pacing.retries, source.pacing.throttled, source.pacing.malformed)
        checkpoint = False
        try:
            with ReadAhead(source.pages(start, end, run.cursor), name=f"reconcile-{name}") as pages:
                for items, next_cursor in pages:
                    self.page(items, stats)
                    run.cursor = next_cursor
                    run.advance_done(source.done_fraction(items, next_cursor, start, end))
                    self.save(run)
                    if next_cursor is not None and budget_low():
                        checkpoint = True
                        break
        except Exception as exc:  # noqa: BLE001 - a provider failure ends this provider, not the run
            stats.errors += 1
            logger.exception("reconciliation paging failed", provider=name, error=str(exc))
        stats.retries += source.pacing.retries - pacing_before[0]
        stats.throttled += source.pacing.throttled - pacing_before[1]
        stats.errors += source.pacing.malformed - pacing_before[2]
        return checkpoint

    def page(self, items: list[Message], stats: ProviderStats) -> None:
        """Store what the page lists that we never got: its messages, and the final statuses of its
        outbound ones (a missed status callback); one BatchGetItem checks both, one batch enqueues."""
        stats.pages += 1
        stats.messages_processed += len(items)
        if not items:
            return
        statuses = [status for status in map(listed_final_status, items) if status is not None]
        listed: list[Event] = [*items, *statuses]
        existing = self.records.existing_keys([event_key(event) for event in listed])
        jobs: list[Job] = []
        for message in items:
            inbound = message.direction == Direction.INBOUND
            stats.inbound_listed += inbound
            key = event_key(message)
            if (key["pk"], key["sk"]) in existing:
                stats.existing_messages += 1
                continue
            # A health-check canary that came back only through the list: stored, never processed.
            canary = inbound and canary_token(message.body) is not None
            outcome = self._store(message, jobs, stats, process=not canary)
            if outcome == "stored":  # store_event logged it ("event stored", source reconciliation)
                stats.new_messages += 1
                stats.inbound_missing += inbound
            elif outcome == "duplicate":  # stored meanwhile (its webhook arrived after the existence check)
                stats.existing_messages += 1
        for status in statuses:
            key = event_key(status)
            if (key["pk"], key["sk"]) not in existing and self._store(status, jobs, stats) == "stored":
                stats.statuses_backfilled += 1  # its job merges it: a status never moves backwards
        stats.errors += len(self.sender.enqueue(jobs))

    def _store(
        self, event: Event, jobs: list[Job], stats: ProviderStats, *, process: bool = True
    ) -> str | None:
        """store_event for one listed event, its job added to `jobs`; the outcome, or None when it failed
        (counted: one event's failure must not end the run)."""
        try:
            result, job = store_event(
                event, self.store, received_at=self.clock(), source=SOURCE, process=process
            )
        except Exception as exc:  # noqa: BLE001 - counted and logged; the next run lists it again
            stats.errors += 1
            logger.exception(
                "reconciliation could not store an event",
                provider=event.provider,
                kind=event.kind,
                provider_message_id=event.provider_message_id,
                error=str(exc),
            )
            return None
        if job is not None:
            jobs.append(job)
        return result.outcome
