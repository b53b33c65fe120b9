"""Reconciliation: page through each provider's own message list, store (through the same idempotent
path as webhooks) every message we never received, re-enqueue stored-but-never-processed jobs, and
record the run. A weekly integrity check compares per-day counts, provider vs. stored.

- Existence is checked per page with BatchGetItem (100 keys a request), never one read per message.
- One run at a time: a lock item (pk RECONCILE, sk LOCK) taken by a conditional put, with an expiry.
- A time budget: with `remaining_ms`, the run stops between pages before the Lambda timeout, writes the
  next page's cursor into its run record and returns {"status": "checkpointed", "cursor": ...,
  "checkpoint": {...}}; `run(..., resume_from=checkpoint)` continues that same run. With `hand_off`
  (ReconcileFunction: a message on its continuation queue, which it consumes) the checkpoint is handed to
  the follow-up invocation at once. The lock is not released at a checkpoint: it passes to the token in
  the checkpoint, so no other run starts in between and a duplicate continuation finds it taken.
- Pages are fetched one ahead (read_ahead) while the current page is stored; the jobs of a page's new
  messages are enqueued with SendMessageBatch.
"""

from __future__ import annotations

import contextvars
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from switchboard.canary import canary_token
from switchboard.dal.events_table import event_key
from switchboard.models import Direction, Event, Job, Message
from switchboard.observability import count_by_provider, logger, service_metric
from switchboard.providers.listing import Pacing
from switchboard.read_ahead import ReadAhead
from switchboard.services.ingest import EventStore, store_event
from switchboard.services.processing.delivery import listed_final_status
from switchboard.services.reconcile_sources import MessageSource, OpenPhoneSource, TwilioSource

if TYPE_CHECKING:
    from switchboard.services.ratelimit import TokenBucket

SOURCE = "reconciliation"
Swept = tuple[int, dict[str, dict[str, int]]]  # (jobs re-enqueued, {provider: {"requeued": n, "errors": n}})
BATCH_SIZE = 10  # stuck jobs re-enqueued per SendMessageBatch


class _NotCheckpointed(Exception):
    def __init__(self, sk: str, status: str | None) -> None:
        super().__init__(f"run {sk} is {status}, not checkpointed")
        self.sk, self.status = sk, status


class JobBatches(Protocol):
    def enqueue_jobs(self, jobs: Sequence[Job]) -> list[Job]: ...


class Records(Protocol):
    def existing_keys(self, keys: Any) -> set[tuple[str, str]]: ...
    def acquire_lock(
        self, owner: str, *, now: float, ttl_seconds: int, handed_to: str | None = None
    ) -> bool: ...
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
    statuses_backfilled: int = 0  # final statuses of outbound messages whose callback never came
    inbound_listed: int = 0  # the webhook capture rate's base: only inbound messages come by webhook
    inbound_missing: int = 0
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


# --- the service ---------------------------------------------------------------------------------


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

    # --- run ---------------------------------------------------------------------------------------

    def run(
        self,
        provider: str | Sequence[str] | None = None,
        window: timedelta = timedelta(hours=48),
        *,
        remaining_ms: Callable[[], int] | None = None,
        resume_from: Mapping[str, Any] | str | None = None,
    ) -> dict[str, Any]:
        if resume_from:
            return self._resume(resume_from, remaining_ms)
        owner = uuid.uuid4().hex
        if not self.records.acquire_lock(owner, now=self.clock(), ttl_seconds=self.lock_ttl_seconds):
            logger.warning("reconciliation already running: this run does not start")
            return {"status": "locked"}
        return self._locked(owner, lambda: self._new_run(provider, window), remaining_ms)

    def _resume(
        self, resume_from: Mapping[str, Any] | str, remaining_ms: Callable[[], int] | None
    ) -> dict[str, Any]:
        """Continue a checkpointed run: take the lock from the token its checkpoint handed it to (or, when
        that expired, as any run would). A run no longer checkpointed - a duplicate continuation, or one
        an operator resumed already - is skipped, not repeated."""
        sk = resume_from if isinstance(resume_from, str) else str(resume_from.get("run", ""))
        run = self.records.get_run(sk)
        if run is None:
            raise ValueError(f"no reconciliation run {sk!r} to resume")
        if run.get("status") != "checkpointed":
            logger.info("continuation skipped: the run is not checkpointed", run=sk, status=run.get("status"))
            return {"status": "skipped", "run": sk, "run_status": run.get("status")}
        owner = uuid.uuid4().hex
        handed_to = (run.get("checkpoint") or {}).get("lock")
        if not self.records.acquire_lock(
            owner, now=self.clock(), ttl_seconds=self.lock_ttl_seconds, handed_to=handed_to
        ):
            logger.warning("reconciliation locked: the continuation waits", run=sk)
            return {"status": "locked", "run": sk}
        return self._locked(owner, lambda: self._reopened(sk), remaining_ms)

    def _reopened(self, sk: str) -> dict[str, Any]:
        run = self.records.get_run(sk)  # read again under the lock: it may have moved on meanwhile
        if run is None or run.get("status") != "checkpointed":
            raise _NotCheckpointed(sk, None if run is None else run.get("status"))
        run["status"] = "running"
        return run

    def _locked(
        self, owner: str, open_run: Callable[[], dict[str, Any]], remaining_ms: Callable[[], int] | None
    ) -> dict[str, Any]:
        """Run under the lock `owner` holds; release it unless a checkpoint handed it on."""
        handed_on = False
        run: dict[str, Any] | None = None
        try:
            run = open_run()
            result = self._continue(run, remaining_ms)
            if result["status"] == "checkpointed":
                handed_on = self._hand_over(owner, run)
            return result
        except _NotCheckpointed as skipped:
            return {"status": "skipped", "run": skipped.sk, "run_status": skipped.status}
        except Exception:
            if run is not None:
                self._fail(run)
            raise
        finally:
            if not handed_on:
                self.records.release_lock(owner)

    def _hand_over(self, owner: str, run: dict[str, Any]) -> bool:
        """Pass the lock to the checkpoint's token and ask for the follow-up invocation."""
        token = str(run["checkpoint"]["lock"])
        passed = self.records.acquire_lock(
            token, now=self.clock(), ttl_seconds=self.lock_ttl_seconds, handed_to=owner
        )  # False: it expired and another run took it; the continuation waits for it like any run
        if self.hand_off is not None:
            try:
                self.hand_off(dict(run["checkpoint"]))
            except Exception as exc:  # noqa: BLE001 - the lock expires; the checkpoint can be resumed by hand
                logger.exception("could not hand the checkpoint on", run=run["sk"], error=str(exc))
        return passed

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
            "done": 0.0,
        }
        self.records.put_run(run)
        return run

    def _budget_low(self, remaining_ms: Callable[[], int] | None) -> bool:
        return remaining_ms is not None and remaining_ms() < self.safety_ms

    def _continue(self, run: dict[str, Any], remaining_ms: Callable[[], int] | None) -> dict[str, Any]:
        started = time.monotonic()
        run["segments"] = int(run.get("segments", 0)) + 1
        providers: list[str] = list(run["providers"])
        # The stuck-job sweep runs beside the paging (once per run): paging waits on the providers' rate
        # limits, so the sweep's queries cost no wall time. Jobs this run stores are younger than the
        # grace period, so the sweep never touches them.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile-sweep") as pool:
            # The caller's context goes along (contextvars: whose calls these are, for the IAM check).
            context = contextvars.copy_context()
            sweep = None if run.get("swept") else pool.submit(context.run, self._sweep, providers)
            while int(run["position"]) < len(providers):
                name = providers[int(run["position"])]
                if self._provider(run, name, remaining_ms):
                    return self._checkpoint(run, started, sweep)
                run["position"] = int(run["position"]) + 1
                run["cursor"] = None
                if int(run["position"]) < len(providers) and self._budget_low(remaining_ms):
                    return self._checkpoint(run, started, sweep)
            self._swept(run, sweep)
            return self._finish(run, started)

    def _sweep(self, providers: Sequence[str]) -> Swept:
        counts = {name: {"requeued": 0, "errors": 0} for name in providers}
        return self.requeue_stuck(counts), counts

    def _swept(self, run: dict[str, Any], sweep: Future[Swept] | None) -> None:
        """Wait for the sweep and add its counts to the run. A sweep that failed is tried once more, now
        alone; failing again it is the run's error (the next run sweeps again), not its end."""
        if sweep is None:
            return
        run["swept"] = True
        try:
            requeued, counts = sweep.result()
        except Exception as exc:  # noqa: BLE001 - e.g. a throttled query; retried once, below
            logger.warning("stuck-job sweep failed; trying once more", error=str(exc))
            try:
                requeued, counts = self._sweep(list(run["stats"]))
            except Exception as again:  # noqa: BLE001 - counted: ReconcileRunFailed
                logger.exception("stuck-job sweep failed", error=str(again))
                run["sweep_failed"] = True
                return
        for name, values in counts.items():
            for key, value in values.items():
                run["stats"][name][key] += value
        run["requeued"] = requeued

    def _provider(self, run: dict[str, Any], name: str, remaining_ms: Callable[[], int] | None) -> bool:
        """Page through one provider's list from the run's cursor; True when it stopped at a checkpoint."""
        source = self.sources[name]
        start, end = _parse_iso(run["window_start"]), _parse_iso(run["window_end"])
        stats = ProviderStats(**run["stats"][name])
        pacing_before = (source.pacing.retries, source.pacing.throttled, source.pacing.malformed)
        checkpoint = False
        try:
            with ReadAhead(source.pages(start, end, run["cursor"]), name=f"reconcile-{name}") as pages:
                for items, next_cursor in pages:
                    self._page(items, stats)
                    run["cursor"] = next_cursor
                    run["stats"][name] = asdict(stats)
                    advance_done(run, source.done_fraction(items, next_cursor, start, end))
                    self.records.put_run(run)  # progress an operator can watch: one write per page
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
        return checkpoint

    def _page(self, items: list[Message], stats: ProviderStats) -> None:
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
        stats.errors += len(self._enqueue(jobs))

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

    def _enqueue(self, jobs: list[Job]) -> list[Job]:
        """SendMessageBatch for the jobs; those that still fail stay unfinished in the store (the
        unfinished-jobs index), where a later run's stuck-job sweep finds them."""
        if not jobs:
            return []
        failed = self.jobs.enqueue_jobs(jobs)
        for job in failed:
            logger.error("could not enqueue a job", pk=job.pk, provider=job.provider)
        return failed

    def requeue_stuck(self, stats: dict[str, dict[str, Any]] | None = None) -> int:
        """Re-enqueue every stored job older than the grace period that never reached PROCESSED
        (RECEIVED, or PROCESSING with an expired lease), found through the unfinished-jobs index, in
        batches of ten. The worker's conditional claim makes a duplicate job harmless."""
        now = self.clock()
        cutoff_ms = int((now - self.grace_seconds) * 1000)
        pending: list[Job] = []
        requeued = 0

        def flush() -> None:
            nonlocal requeued
            failed = self._enqueue(pending)
            for job in pending:
                counted = "errors" if job in failed else "requeued"
                if stats is not None and job.provider in stats:
                    stats[job.provider][counted] += 1
            requeued += len(pending) - len(failed)
            pending.clear()

        # Canaries (stored without a job) never enter the unfinished-jobs index: nothing to skip here.
        for item in self.records.stuck_jobs(received_before_ms=cutoff_ms, now=now):
            pending.append(_stuck_job(item))
            if len(pending) == BATCH_SIZE:
                flush()
        flush()
        if requeued:
            logger.warning("re-enqueued stuck jobs", count=requeued)
        return requeued

    def _checkpoint(self, run: dict[str, Any], started: float, sweep: Future[Swept] | None) -> dict[str, Any]:
        self._swept(run, sweep)
        run["status"] = "checkpointed"
        run["elapsed_seconds"] = round(float(run.get("elapsed_seconds", 0)) + time.monotonic() - started, 3)
        checkpoint = {
            "run": run["sk"],
            "provider": run["providers"][int(run["position"])],
            "cursor": run["cursor"],
            "lock": uuid.uuid4().hex,  # the token the lock passes to: only this continuation takes it
        }
        run["checkpoint"] = checkpoint
        self.records.put_run(run)
        logger.info("reconciliation checkpointed before the time limit", run=run["sk"])
        return {
            "status": "checkpointed",
            "cursor": run["cursor"],
            "checkpoint": checkpoint,
            **run_summary(run),
        }

    def _finish(self, run: dict[str, Any], started: float) -> dict[str, Any]:
        run["status"] = "completed"
        run["done"] = 1.0
        run["finished"] = iso(datetime.fromtimestamp(self.clock(), tz=UTC))
        run["elapsed_seconds"] = round(float(run.get("elapsed_seconds", 0)) + time.monotonic() - started, 3)
        run["duration_seconds"] = run["elapsed_seconds"]
        run["requeued"] = int(run.get("requeued", 0))
        run["cursor"] = None
        run.pop("checkpoint", None)
        totals = ProviderStats()
        for values in run["stats"].values():
            totals.add(ProviderStats(**values))
        run["totals"] = asdict(totals)
        self.records.put_run(run)
        _emit_outcome(run["stats"], failed=totals.errors > 0 or bool(run.get("sweep_failed")))
        logger.info("reconciliation finished", run=run["sk"], totals=run["totals"])
        return {"status": "completed", **run_summary(run)}

    def _fail(self, run: dict[str, Any]) -> None:
        """A run that crashed (the store itself failing, say): recorded as failed, counted for the alarm."""
        run["status"] = "failed"
        run["finished"] = iso(datetime.fromtimestamp(self.clock(), tz=UTC))
        try:
            self.records.put_run(run)
        except Exception as exc:  # noqa: BLE001 - the original error is what gets raised
            logger.exception("could not record the failed run", run=run.get("sk"), error=str(exc))
        _emit_outcome(run.get("stats") or {}, failed=True)

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


def advance_done(run: dict[str, Any], provider_done: float | None) -> None:
    """The run's `done` share (for a progress bar): finished providers plus the current one's estimated
    share, never moving back; an unknown share counts the provider as just started."""
    providers = len(run["providers"])
    done = (int(run["position"]) + (provider_done or 0.0)) / providers
    run["done"] = round(max(float(run.get("done", 0.0)), done), 4)


def run_summary(run: Mapping[str, Any]) -> dict[str, Any]:
    """What a run answers (and `reconcile run` prints) from its record: window, per-provider stats,
    totals, duration."""
    keys = (
        "sk",
        "started",
        "finished",
        "window_start",
        "window_end",
        "stats",
        "totals",
        "requeued",
        "segments",
    )
    summary = {key: run[key] for key in keys if key in run}
    summary["run"] = summary.pop("sk")
    summary["duration_seconds"] = run.get("elapsed_seconds", 0.0)
    return summary


def _stuck_job(item: dict[str, Any]) -> Job:
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


def _emit_outcome(stats: Mapping[str, Mapping[str, Any]], *, failed: bool) -> None:
    """ReconciledMissing (messages backfilled) by provider (the dashboard) and in total,
    ReconciledMissingPercent (the share of listed *inbound* messages whose webhook never came: 100 - the
    webhook capture rate; an outbound message sent from another tool - the Twilio console, the OpenPhone
    app - never had a webhook to lose) and ReconcileRunFailed: the last three with the service dimension
    only, which is what the alarms watch."""
    from aws_lambda_powertools.metrics import MetricUnit

    backfilled = sum(int(values.get("new_messages", 0)) for values in stats.values())
    inbound = sum(int(values.get("inbound_listed", 0)) for values in stats.values())
    missed = sum(int(values.get("inbound_missing", 0)) for values in stats.values())
    for provider, values in stats.items():
        count_by_provider("ReconciledMissing", provider, int(values.get("new_messages", 0)))
    service_metric("ReconciledMissing", backfilled)
    if inbound:
        service_metric("ReconciledMissingPercent", round(100.0 * missed / inbound, 4), MetricUnit.Percent)
    service_metric("ReconcileRunFailed", 1 if failed else 0)


# --- wiring ------------------------------------------------------------------------------------------


def list_bucket(rate_per_second: float) -> TokenBucket:
    """The client-side limit on a provider's list API: its rate with no burst (capacity 1). A burst of 10
    at a 10/s limit still earned 429s (bench/reconcile): the provider's window need not line up with ours."""
    from switchboard.services.ratelimit import TokenBucket

    return TokenBucket(rate_per_second, capacity=1)


def default_reconciler() -> Reconciler:
    """The reconciler wired to the environment's resources and the providers' credentials."""
    global _default
    if _default is None:
        from switchboard.dal.continuations import ContinuationQueue
        from switchboard.dal.events_table import EventsTable
        from switchboard.dal.jobs_queue import JobsQueue
        from switchboard.dal.notifications import publish_alert
        from switchboard.dal.reconcile_records import ReconcileRecords
        from switchboard.dal.secrets import WebhookSecrets
        from switchboard.function_settings import reconcile_settings

        settings = reconcile_settings()
        secrets = WebhookSecrets(settings.webhook_secrets_name)
        sources: dict[str, MessageSource] = {}
        for name in settings.providers:
            if name == "twilio":
                sources[name] = TwilioSource(
                    secrets.for_provider("twilio"),
                    base_url=settings.twilio_api_base_url or None,
                    pacing=Pacing(bucket=list_bucket(settings.twilio_rate_per_second)),
                )
            elif name == "openphone":
                sources[name] = OpenPhoneSource(
                    secrets.for_provider("openphone"),
                    phone_number_id=settings.openphone_phone_number_id,
                    conversations=settings.openphone_conversations,
                    base_url=settings.openphone_api_base_url or None,
                    pacing=Pacing(bucket=list_bucket(settings.openphone_rate_per_second)),
                )
        topic = settings.alerts_topic_arn
        continuations = (
            ContinuationQueue(settings.continuation_queue_url) if settings.continuation_queue_url else None
        )
        _default = Reconciler(
            sources=sources,
            records=ReconcileRecords(settings.table_name),
            store=EventsTable(settings.table_name),
            jobs=JobsQueue(settings.processing_queue_url),
            alert=lambda subject, message: publish_alert(topic, subject, message),
            hand_off=continuations.send if continuations else None,
            grace_seconds=settings.requeue_grace_seconds,
            safety_ms=settings.safety_ms,
        )
    return _default


_default: Reconciler | None = None
