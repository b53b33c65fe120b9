"""Store an event once and enqueue its processing job: the one path ingest, the sender and reconciliation
(and later reminders) share, so every stored event gets its job the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from switchboard.dal.events_table import StoreResult
from switchboard.models import Event, Job
from switchboard.models.states import JobState
from switchboard.observability import count_by_provider, logger


class EventStore(Protocol):
    def store_if_new(
        self, event: Event, *, source: str = ..., received_at: float | None = ..., job: bool = ...
    ) -> StoreResult: ...


class JobSink(Protocol):
    def enqueue_job(self, job: Job) -> str: ...


@dataclass(frozen=True)
class IngestResult:
    outcome: Literal["stored", "duplicate", "ignored"]
    provider: str
    provider_message_id: str | None = None
    kind: str | None = None
    enqueued: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


def store_and_enqueue(
    event: Event,
    store: EventStore,
    jobs: JobSink,
    *,
    received_at: float,
    source: str = "webhook",
    process: bool = True,
) -> IngestResult:
    """Store an event once and enqueue its processing job: the one path ingest, the sender and
    reconciliation share. `process=False` stores without a job (canary messages)."""
    result, job = store_event(event, store, received_at=received_at, source=source, process=process)
    if job is not None:
        jobs.enqueue_job(job)
    return result


def store_event(
    event: Event,
    store: EventStore,
    *,
    received_at: float,
    source: str = "webhook",
    process: bool = True,
) -> tuple[IngestResult, Job | None]:
    """Store an event once; return the result and the job the caller must enqueue (None when there
    is none to run). Callers that store many events (reconciliation) enqueue the jobs in batches."""
    stored = store.store_if_new(event, source=source, received_at=received_at, job=process)
    if not stored.created:
        count_by_provider("DuplicateWebhooks", event.provider)
    # A duplicate whose job already finished needs nothing; anything else is (re-)enqueued so a
    # job lost after an earlier put is recovered by the provider's own retry.
    enqueue = process and (stored.created or stored.job_state != JobState.PROCESSED)
    job = (
        Job(
            pk=stored.key["pk"],
            sk=stored.key["sk"],
            provider=event.provider,
            kind=event.kind,
            provider_message_id=event.provider_message_id,
        )
        if enqueue
        else None
    )
    logger.info(
        "event stored" if stored.created else "duplicate event",
        provider=event.provider,
        kind=event.kind,
        provider_message_id=event.provider_message_id,
        enqueued=enqueue,
        source=source,
    )
    result = IngestResult(
        outcome="stored" if stored.created else "duplicate",
        provider=event.provider,
        provider_message_id=event.provider_message_id,
        kind=event.kind,
        enqueued=enqueue,
    )
    return result, job
