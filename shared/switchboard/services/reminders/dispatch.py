"""The reminder dispatcher: every minute, due reminders -> re-validated -> the outbound queue -> queued.

Per page of the due index (each of the 8 shards, up to now): the page's reminders and their facts are
re-read in BatchGetItem calls; each is re-validated *now* (still scheduled at the indexed version, not
past its start, number not suppressed, recipient enabled, its day's slot still held, not inside quiet
hours now); the survivors go to the outbound queue 10 per SendMessageBatch and are then claimed
(scheduled -> queued, conditional on state and version, one transaction per 100). Enqueue first, claim
second: a dispatcher killed between the two re-enqueues on its next run, and the sender's send key
(one per version) makes the second copy a no-op; the reverse order could lose a reminder (ADR 0018).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from switchboard.container import once_per_container
from switchboard.dal.jobs_queue import BATCH_LIMIT
from switchboard.models.outbound import SendRequest
from switchboard.models.reminders import ReminderState
from switchboard.observability import logger, metrics
from switchboard.services.reminders import rules
from switchboard.services.reminders.rollout import ALWAYS, Rollout

CLAIM_GROUP = 100  # reminders enqueued before one claim transaction (10 SendMessageBatch calls)
DEFERRED = "quiet_hours_at_dispatch"


class DueStore(Protocol):
    def due_pages(self, shard: str, now_ms: int) -> Iterator[list[dict[str, Any]]]: ...
    def read_many(self, keys: Sequence[dict[str, str]]) -> dict[tuple[str, str], dict[str, Any]]: ...
    def facts_keys(self, reminder: dict[str, Any]) -> list[dict[str, str]]: ...
    def claim(self, reminders: Sequence[dict[str, Any]], now: float) -> list[dict[str, Any]]: ...
    def cancel_at_dispatch(self, reminder: dict[str, Any], reason: str, now: float) -> bool: ...
    def defer(self, reminder: dict[str, Any], due_at_ms: int, reason: str, now: float) -> bool: ...


class Outbound(Protocol):
    def send_batch(self, requests: Sequence[SendRequest]) -> list[SendRequest]: ...


@dataclass
class DispatchReport:
    due: int = 0
    enqueued: int = 0
    claimed: int = 0
    stale: int = 0  # the index lagged: no longer scheduled at that version (moved, cancelled, sent)
    cancelled: dict[str, int] = field(default_factory=dict)
    deferred: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "cancelled": dict(self.cancelled)}


@dataclass
class Dispatcher:
    store: DueStore
    outbound: Outbound
    shards: Sequence[str]
    provider: str
    sender: str
    clock: Callable[[], float] = time.time
    rollout: Rollout = ALWAYS  # the kill switch and rollout flag (services/reminders/rollout.py)

    def run(self) -> DispatchReport:
        now = self.clock()
        report = DispatchReport()
        if not self.sender:
            logger.error("REMINDER_FROM_NUMBER is not set: due reminders stay scheduled")
            metrics.add_metric(name="ReminderDispatchUnconfigured", unit="Count", value=1)
            return report
        for shard in self.shards:
            for page in self.store.due_pages(shard, int(now * 1000)):
                self._dispatch(page, now, report)
        metrics.add_metric(name="RemindersDue", unit="Count", value=report.due)
        metrics.add_metric(name="RemindersEnqueued", unit="Count", value=report.enqueued)
        logger.info("reminders dispatched", **report.as_dict())
        return report

    def _dispatch(self, page: list[dict[str, Any]], now: float, report: DispatchReport) -> None:
        report.due += len(page)
        current = self.store.read_many([{"pk": e["pk"], "sk": e["sk"]} for e in page])
        live = []
        for entry in page:
            item = current.get((entry["pk"], entry["sk"]), {})
            if item.get("state") != ReminderState.SCHEDULED or item.get("version") != entry.get("version"):
                report.stale += 1
            else:
                live.append(item)
        facts = self.store.read_many([key for item in live for key in self.store.facts_keys(item)])
        survivors = [item for item in live if self._still_due(item, facts, now, report)]
        for start in range(0, len(survivors), CLAIM_GROUP):
            group = survivors[start : start + CLAIM_GROUP]
            enqueued = self._enqueue(group)
            report.enqueued += len(enqueued)
            report.claimed += len(self.store.claim(enqueued, now))

    def _enqueue(self, group: list[dict[str, Any]]) -> list[dict[str, Any]]:
        enqueued: list[dict[str, Any]] = []
        for start in range(0, len(group), BATCH_LIMIT):
            chunk = group[start : start + BATCH_LIMIT]
            by_key = {item["send_key"]: item for item in chunk}
            accepted = self.outbound.send_batch([self._request(item) for item in chunk])
            enqueued.extend(by_key[request.send_key] for request in accepted)
        return enqueued

    def _request(self, item: dict[str, Any]) -> SendRequest:
        return SendRequest(
            send_key=item["send_key"],
            provider=self.provider,
            sender=self.sender,
            recipient=item["phone"],
            body=item["text"],
            purpose="reminder",
        )

    def _still_due(
        self,
        item: dict[str, Any],
        facts: dict[tuple[str, str], dict[str, Any]],
        now: float,
        report: DispatchReport,
    ) -> bool:
        reason, later = self._revalidate(item, facts, now)
        if reason is None:
            return True
        if later is not None:
            report.deferred += self.store.defer(item, later, DEFERRED, now)
        elif self.store.cancel_at_dispatch(item, reason, now):
            report.cancelled[reason] = report.cancelled.get(reason, 0) + 1
            metrics.add_metric(name="RemindersCancelledAtDispatch", unit="Count", value=1)
        return False

    def _revalidate(
        self, item: dict[str, Any], facts: dict[tuple[str, str], dict[str, Any]], now: float
    ) -> tuple[str | None, int | None]:
        """(None, None) to send now; (reason, None) to cancel; (reason, due ms) to send later."""
        if not item.get("phone") or not item.get("text"):
            return rules.NO_PHONE, None
        refused = self.rollout.refusal(str(item.get("recipient", "")))
        if refused is not None:  # paused, or outside the rollout: "stops sending at once"
            return refused, None
        keys = self.store.facts_keys(item)
        if facts.get((keys[0]["pk"], keys[0]["sk"]), {}).get("suppressed"):
            return rules.SUPPRESSED, None
        recipient = facts.get((keys[1]["pk"], keys[1]["sk"]), {}) if len(keys) > 1 else {}
        if recipient.get("enabled") is False:
            return rules.RECIPIENT_DISABLED, None
        if len(keys) > 2 and item["event_id"] not in facts.get((keys[2]["pk"], keys[2]["sk"]), {}).get(
            "ids", []
        ):
            return rules.DAILY_LIMIT, None  # its slot was given up (a replan or the daily planner)
        instant = datetime.fromtimestamp(now, tz=UTC)
        deadline = _deadline(item)
        if deadline is not None and instant >= deadline:
            return rules.TOO_LATE, None
        windows = (_window(recipient),)
        zones = tuple(item.get("zones") or ()) or ("UTC",)
        if not rules.in_quiet_hours(instant, zones, windows):
            return None, None
        moved = rules.out_of_quiet_hours(instant, zones, windows)
        if moved is None or (deadline is not None and moved >= deadline):
            return rules.QUIET_HOURS, None
        return DEFERRED, int(moved.timestamp() * 1000)


def _window(recipient: dict[str, Any]) -> rules.QuietWindow:
    default = rules.QuietWindow()
    start, end = recipient.get("quiet_start"), recipient.get("quiet_end")
    return rules.QuietWindow(
        wall_time.fromisoformat(start) if start else default.start,
        wall_time.fromisoformat(end) if end else default.end,
    )


def _deadline(item: dict[str, Any]) -> datetime | None:
    """When sending stops making sense: the start, or for an all-day event the end of its day (the
    earliest end among the recipient's zones)."""
    start = item.get("start")
    if start:
        parsed = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    day = item.get("all_day")
    if not day:
        return None
    next_day = date.fromisoformat(str(day)) + timedelta(days=1)
    zones = tuple(item.get("zones") or ()) or ("UTC",)
    return min(datetime.combine(next_day, wall_time(0), tzinfo=ZoneInfo(zone)) for zone in zones)


@once_per_container
def default_dispatcher() -> Dispatcher:
    """The dispatcher wired to the environment's table and outbound queue, built once per container."""
    from switchboard.dal.address_keys import AddressKeys
    from switchboard.dal.outbound_queue import OutboundQueue
    from switchboard.dal.reminder_sends import ReminderSends
    from switchboard.dal.reminders import due_shards
    from switchboard.dal.rollout_flag import RolloutFlagStore
    from switchboard.dal.secrets import WebhookSecrets
    from switchboard.function_settings import dispatcher_settings

    settings = dispatcher_settings()
    keys = AddressKeys.from_secrets(WebhookSecrets(settings.webhook_secrets_name))
    return Dispatcher(
        store=ReminderSends(settings.table_name, address_keys=keys),
        outbound=OutboundQueue(settings.outbound_queue_url),
        shards=due_shards(),
        provider=settings.reminder_provider,
        sender=settings.reminder_from_number,
        rollout=Rollout(RolloutFlagStore(settings.reminders_rollout_parameter).read),
    )
