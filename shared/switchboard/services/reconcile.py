"""Reconciliation: page through each provider's own message list, store (through the same idempotent
path as webhooks) every message we never received, re-enqueue stored-but-never-processed jobs, and
record the run. A weekly integrity check compares per-day counts, provider vs. stored.

- Existence is checked per page with BatchGetItem (100 keys a request), never one read per message.
- One run at a time: a lock item (pk RECONCILE, sk LOCK) taken by a conditional put, with an expiry.
- A time budget: with `remaining_ms`, the run stops between pages before the Lambda timeout, writes the
  next page's cursor into its run record and returns {"status": "checkpointed", "cursor": ...,
  "checkpoint": {...}}; `run(..., resume_from=checkpoint)` (or the run's sk) continues that same run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from switchboard.canary import canary_token
from switchboard.dal.events_table import event_key
from switchboard.models import Job, Message
from switchboard.observability import NAMESPACE, logger
from switchboard.providers.listing import Pacing, Page
from switchboard.services.ingest import EventStore, JobSink, store_and_enqueue

SOURCE = "reconciliation"


class MessageSource(Protocol):
    """A provider's message list: pages of canonical messages, each with the next page's cursor."""

    name: str
    pacing: Pacing

    def pages(self, start: datetime, end: datetime, cursor: Any) -> Iterator[Page]: ...


class Records(Protocol):
    def existing_keys(self, keys: Any) -> set[tuple[str, str]]: ...
    def acquire_lock(self, owner: str, *, now: float, ttl_seconds: int) -> bool: ...
    def release_lock(self, owner: str) -> bool: ...
    def put_run(self, run: dict[str, Any]) -> None: ...
    def get_run(self, sk: str) -> dict[str, Any] | None: ...
    def stuck_jobs(self, *, received_before_ms: int, now: float) -> Iterator[dict[str, Any]]: ...
    def stored_message_days(self, provider: str, since_iso: str) -> dict[str, int]: ...


@dataclass
class ProviderStats:
    pages: int = 0
    messages_processed: int = 0
    new_messages: int = 0
    existing_messages: int = 0
    requeued: int = 0
    errors: int = 0
    retries: int = 0
    throttled: int = 0

    def add(self, other: ProviderStats) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- sources -----------------------------------------------------------------------------------------


@dataclass
class TwilioSource:
    credentials: Mapping[str, Any]
    base_url: str | None = None
    page_size: int = 100
    pacing: Pacing = field(default_factory=Pacing)
    name: str = "twilio"

    def pages(self, start: datetime, end: datetime, cursor: Any) -> Iterator[Page]:
        from switchboard.providers.listing import list_twilio_messages

        return list_twilio_messages(
            self.credentials,
            after=start,
            before=end,
            page_size=self.page_size,
            base_url=self.base_url,
            start_page_uri=cursor or None,
            pacing=self.pacing,
        )


@dataclass
class OpenPhoneSource:
    """OpenPhone's v1 list is per conversation (phoneNumberId + participants): one pass per entry of
    `conversations`; the cursor is {"conversation": index, "page_token": token}."""

    credentials: Mapping[str, Any]
    phone_number_id: str
    conversations: Sequence[Sequence[str]]
    base_url: str | None = None
    max_results: int = 100
    pacing: Pacing = field(default_factory=Pacing)
    name: str = "openphone"

    def pages(self, start: datetime, end: datetime, cursor: Any) -> Iterator[Page]:
        from switchboard.providers.listing import list_openphone_messages

        index = int((cursor or {}).get("conversation", 0))
        token = (cursor or {}).get("page_token")
        for position in range(index, len(self.conversations)):
            pages = list_openphone_messages(
                self.credentials,
                phone_number_id=self.phone_number_id,
                participants=list(self.conversations[position]),
                created_after=start,
                created_before=end,
                max_results=self.max_results,
                page_token=token,
                base_url=self.base_url,
                pacing=self.pacing,
            )
            token = None
            for items, next_token in pages:
                if next_token:
                    yield items, {"conversation": position, "page_token": next_token}
                elif position + 1 < len(self.conversations):
                    yield items, {"conversation": position + 1, "page_token": None}
                else:
                    yield items, None


# --- the service ---------------------------------------------------------------------------------


@dataclass
class Reconciler:
    sources: Mapping[str, MessageSource]
    records: Records
    store: EventStore
    jobs: JobSink
    alert: Callable[[str, str], None] = lambda subject, message: None
    clock: Callable[[], float] = time.time
    grace_seconds: int = 15 * 60  # a stored job younger than this may still be on its way
    lock_ttl_seconds: int = 16 * 60  # > the Lambda's 900 s timeout: a crashed run frees it at expiry
    safety_ms: int = 60_000  # stop paging when less than this remains of the invocation
    consistency_threshold: float = 0.999

    # --- run ---------------------------------------------------------------------------------------

    def run(
        self,
        provider: str | Sequence[str] | None = None,
        window: timedelta = timedelta(hours=48),
        *,
        remaining_ms: Callable[[], int] | None = None,
        resume_from: Mapping[str, Any] | str | None = None,
    ) -> dict[str, Any]:
        owner = uuid.uuid4().hex
        if not self.records.acquire_lock(owner, now=self.clock(), ttl_seconds=self.lock_ttl_seconds):
            logger.warning("reconciliation already running: this run does not start")
            return {"status": "locked"}
        try:
            run = self._resume(resume_from) if resume_from else self._new_run(provider, window)
            return self._continue(run, remaining_ms)
        finally:
            self.records.release_lock(owner)

    def _new_run(self, provider: str | Sequence[str] | None, window: timedelta) -> dict[str, Any]:
        if provider is None:
            providers = list(self.sources)
        else:
            providers = [provider] if isinstance(provider, str) else list(provider)
        unknown = [name for name in providers if name not in self.sources]
        if unknown:
            raise ValueError(f"no list source configured for provider(s): {', '.join(unknown)}")
        now = datetime.fromtimestamp(self.clock(), tz=UTC)
        run: dict[str, Any] = {
            "sk": f"RUN#{iso(now)}",
            "status": "running",
            "started": iso(now),
            "window_start": iso(now - window),
            "window_end": iso(now),
            "window_hours": round(window.total_seconds() / 3600, 3),
            "providers": providers,
            "stats": {name: asdict(ProviderStats()) for name in providers},
            "position": 0,
            "cursor": None,
            "elapsed_seconds": 0.0,
            "segments": 0,
        }
        self.records.put_run(run)
        return run

    def _resume(self, resume_from: Mapping[str, Any] | str) -> dict[str, Any]:
        sk = resume_from if isinstance(resume_from, str) else str(resume_from.get("run", ""))
        run = self.records.get_run(sk)
        if run is None:
            raise ValueError(f"no reconciliation run {sk!r} to resume")
        if run.get("status") != "checkpointed":
            raise ValueError(f"run {sk!r} is {run.get('status')}, not checkpointed")
        run["status"] = "running"
        return run

    def _budget_low(self, remaining_ms: Callable[[], int] | None) -> bool:
        return remaining_ms is not None and remaining_ms() < self.safety_ms

    def _continue(self, run: dict[str, Any], remaining_ms: Callable[[], int] | None) -> dict[str, Any]:
        started = time.monotonic()
        run["segments"] = int(run.get("segments", 0)) + 1
        start, end = _parse_iso(run["window_start"]), _parse_iso(run["window_end"])
        providers: list[str] = list(run["providers"])
        while int(run["position"]) < len(providers):
            name = providers[int(run["position"])]
            source = self.sources[name]
            stats = ProviderStats(**run["stats"][name])
            pacing_before = (source.pacing.retries, source.pacing.throttled, source.pacing.malformed)
            checkpoint = False
            try:
                for items, next_cursor in source.pages(start, end, run["cursor"]):
                    self._page(items, stats)
                    run["cursor"] = next_cursor
                    run["stats"][name] = asdict(stats)
                    self.records.put_run(run)  # progress an operator can watch: one write per 100 messages
                    if next_cursor is not None and self._budget_low(remaining_ms):
                        checkpoint = True
                        break
            except Exception as exc:  # noqa: BLE001 - a provider failure ends this provider, not the run
                stats.errors += 1
                logger.exception("reconciliation paging failed", provider=name, error=str(exc))
            stats.retries += source.pacing.retries - pacing_before[0]
            stats.throttled += source.pacing.throttled - pacing_before[1]
            stats.errors += source.pacing.malformed - pacing_before[2]
            run["stats"][name] = asdict(stats)
            if checkpoint:
                return self._checkpoint(run, started)
            run["position"] = int(run["position"]) + 1
            run["cursor"] = None
            if int(run["position"]) < len(providers) and self._budget_low(remaining_ms):
                return self._checkpoint(run, started)
        requeued = self.requeue_stuck(run["stats"])
        return self._finish(run, started, requeued)

    def _page(self, items: list[Message], stats: ProviderStats) -> None:
        stats.pages += 1
        stats.messages_processed += len(items)
        if not items:
            return
        existing = self.records.existing_keys([event_key(message) for message in items])
        for message in items:
            key = event_key(message)
            if (key["pk"], key["sk"]) in existing:
                stats.existing_messages += 1
                continue
            # A health-check canary that came back only through the list: stored, never processed.
            canary = message.direction == "inbound" and canary_token(message.body) is not None
            try:
                result = store_and_enqueue(
                    message,
                    self.store,
                    self.jobs,
                    received_at=self.clock(),
                    source=SOURCE,
                    process=not canary,
                )
            except Exception as exc:  # noqa: BLE001 - one message's failure must not end the run
                stats.errors += 1
                logger.exception(
                    "reconciliation could not store a message",
                    provider=message.provider,
                    provider_message_id=message.provider_message_id,
                    error=str(exc),
                )
                continue
            if result.outcome == "stored":
                stats.new_messages += 1
                logger.info(
                    "reconciled a missing message",
                    provider=message.provider,
                    provider_message_id=message.provider_message_id,
                )
            else:  # stored meanwhile (its webhook arrived after the existence check)
                stats.existing_messages += 1

    def requeue_stuck(self, stats: dict[str, dict[str, Any]] | None = None) -> int:
        """Re-enqueue every stored job older than the grace period that never reached PROCESSED
        (RECEIVED, or PROCESSING with an expired lease). Canary records (stored on purpose without a
        job) are skipped. A full-table scan for now; the worker's conditional claim makes a
        duplicate job harmless."""
        now = self.clock()
        cutoff_ms = int((now - self.grace_seconds) * 1000)
        requeued = 0
        for item in self.records.stuck_jobs(received_before_ms=cutoff_ms, now=now):
            if item.get("kind", "message") == "message" and canary_token(str(item.get("body") or "")):
                continue
            provider = str(item.get("provider") or str(item["pk"]).split("#")[1])
            try:
                self.jobs.enqueue_job(
                    Job(
                        pk=item["pk"],
                        sk=item["sk"],
                        provider=provider,
                        kind=item.get("kind") or ("message" if item["sk"] == "MESSAGE" else "status"),
                        provider_message_id=str(
                            item.get("provider_message_id") or item["pk"].split("#", 2)[2]
                        ),
                    )
                )
            except Exception as exc:  # noqa: BLE001 - the next run tries again
                logger.exception("could not re-enqueue a stuck job", pk=item["pk"], error=str(exc))
                if stats is not None and provider in stats:
                    stats[provider]["errors"] += 1
                continue
            requeued += 1
            if stats is not None and provider in stats:
                stats[provider]["requeued"] += 1
        if requeued:
            logger.warning("re-enqueued stuck jobs", count=requeued)
        return requeued

    def _checkpoint(self, run: dict[str, Any], started: float) -> dict[str, Any]:
        run["status"] = "checkpointed"
        run["elapsed_seconds"] = round(float(run.get("elapsed_seconds", 0)) + time.monotonic() - started, 3)
        checkpoint = {
            "run": run["sk"],
            "provider": run["providers"][int(run["position"])],
            "cursor": run["cursor"],
        }
        run["checkpoint"] = checkpoint
        self.records.put_run(run)
        logger.info("reconciliation checkpointed before the time limit", run=run["sk"])
        return {"status": "checkpointed", "cursor": run["cursor"], "checkpoint": checkpoint, **_summary(run)}

    def _finish(self, run: dict[str, Any], started: float, requeued: int) -> dict[str, Any]:
        run["status"] = "completed"
        run["finished"] = iso(datetime.fromtimestamp(self.clock(), tz=UTC))
        run["elapsed_seconds"] = round(float(run.get("elapsed_seconds", 0)) + time.monotonic() - started, 3)
        run["duration_seconds"] = run["elapsed_seconds"]
        run["requeued"] = requeued
        run["cursor"] = None
        run.pop("checkpoint", None)
        totals = ProviderStats()
        for values in run["stats"].values():
            totals.add(ProviderStats(**values))
        run["totals"] = asdict(totals)
        self.records.put_run(run)
        _emit_missing(totals.new_messages)
        logger.info("reconciliation finished", run=run["sk"], totals=run["totals"])
        return {"status": "completed", **_summary(run)}

    # --- integrity ---------------------------------------------------------------------------------

    def integrity_check(self, days: int = 7, providers: Sequence[str] | None = None) -> dict[str, Any]:
        """For each of the last `days` whole UTC days and each provider: listed count (the provider's
        list API) vs. stored count (a filtered scan of message records by occurred_at) -> consistency
        rate; any rate below the threshold alerts once, listing every short day."""
        today = datetime.fromtimestamp(self.clock(), tz=UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        first = today - timedelta(days=days)
        report: list[dict[str, Any]] = []
        for name in providers or list(self.sources):
            source = self.sources[name]
            stored = self.records.stored_message_days(name, iso(first)[:10])
            for offset in range(days):
                day = first + timedelta(days=offset)
                listed = sum(len(items) for items, _ in source.pages(day, day + timedelta(days=1), None))
                stored_count = stored.get(day.date().isoformat(), 0)
                report.append(
                    {
                        "provider": name,
                        "day": day.date().isoformat(),
                        "provider_count": listed,
                        "stored_count": stored_count,
                        "consistency": consistency_rate(listed, stored_count),
                    }
                )
        short = [row for row in report if row["consistency"] < self.consistency_threshold]
        if short:
            lines = [
                f"{row['provider']} {row['day']}: {row['stored_count']}/{row['provider_count']}"
                f" stored ({row['consistency']:.2%})"
                for row in short
            ]
            self.alert(
                "Switchboard integrity check below 99.9 %",
                "Days whose stored messages fall short of the provider's list:\n" + "\n".join(lines),
            )
        return {"status": "alert" if short else "ok", "days": report, "below_threshold": len(short)}


def consistency_rate(provider_count: int, stored_count: int) -> float:
    """Share of the provider's messages we hold (1.0 when the provider listed none); extra stored
    messages (e.g. a date moved across midnight) never push it above 1."""
    if provider_count <= 0:
        return 1.0
    return min(stored_count, provider_count) / provider_count


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("sk", "started", "finished", "window_start", "window_end", "stats", "totals", "requeued")
    summary = {key: run[key] for key in keys if key in run}
    summary["run"] = summary.pop("sk")
    summary["duration_seconds"] = run.get("elapsed_seconds", 0.0)
    return summary


def _emit_missing(count: int) -> None:
    """ReconciledMissing with the service dimension only (what the alarm watches), flushed at once so
    the provider dimension other metrics of this invocation carry does not attach to it."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name="ReconciledMissing",
        unit=MetricUnit.Count,
        value=count,
        namespace=NAMESPACE,
        default_dimensions={"service": "switchboard"},
    ):
        pass


# --- wiring ------------------------------------------------------------------------------------------


def default_reconciler() -> Reconciler:
    """The reconciler wired to the environment's resources and the providers' credentials."""
    global _default
    if _default is None:
        from switchboard.dal.events_table import EventsTable
        from switchboard.dal.jobs_queue import JobsQueue
        from switchboard.dal.notifications import publish_alert
        from switchboard.dal.reconcile_records import ReconcileRecords
        from switchboard.dal.secrets import WebhookSecrets
        from switchboard.function_settings import reconcile_settings
        from switchboard.services.ratelimit import TokenBucket

        settings = reconcile_settings()
        secrets = WebhookSecrets(settings.webhook_secrets_name)
        sources: dict[str, MessageSource] = {}
        for name in settings.providers:
            if name == "twilio":
                sources[name] = TwilioSource(
                    secrets.for_provider("twilio"),
                    base_url=settings.twilio_api_base_url or None,
                    # capacity 1: a burst of 10 at a 10/s limit still earned 429s (bench/reconcile)
                    pacing=Pacing(bucket=TokenBucket(settings.twilio_rate_per_second, capacity=1)),
                )
            elif name == "openphone":
                sources[name] = OpenPhoneSource(
                    secrets.for_provider("openphone"),
                    phone_number_id=settings.openphone_phone_number_id,
                    conversations=settings.openphone_conversations,
                    base_url=settings.openphone_api_base_url or None,
                    pacing=Pacing(bucket=TokenBucket(settings.openphone_rate_per_second, capacity=1)),
                )
        topic = settings.alerts_topic_arn
        _default = Reconciler(
            sources=sources,
            records=ReconcileRecords(settings.table_name),
            store=EventsTable(settings.table_name),
            jobs=JobsQueue(settings.processing_queue_url),
            alert=lambda subject, message: publish_alert(topic, subject, message),
            grace_seconds=settings.requeue_grace_seconds,
            safety_ms=settings.safety_ms,
        )
    return _default


_default: Reconciler | None = None
