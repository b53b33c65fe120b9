"""The daily planner (seed 002's "midnight scheduler"): when a recipient's local day begins, its scheduled
reminders are judged again by the same pure rules, since settings, opt-outs and the rollout may have
changed since the booking was planned.

Each run (every 15 minutes) takes the reminders whose local day began since the previous run: that day
starts after the previous run and ends within about a day, so only reminders due in
(previous run, now + 25 h] are read (the RemindersDue index, then one BatchGetItem per 100). For each:
suppressed, disabled or outside the rollout -> cancelled with that reason; quiet hours or lead time
now give another time -> moved (or cancelled when no time is left); then the recipient's daily limit
cancels the latest ones of the day. Every change is recorded on the reminder and counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from switchboard.container import once_per_container
from switchboard.models.recipients import Recipient
from switchboard.observability import logger, metrics
from switchboard.services.reminders import rules
from switchboard.services.reminders.planning import recipient_rules
from switchboard.services.reminders.rollout import ALWAYS, Rollout

RUN_NAME = "reminder-planner"
LOOKAHEAD = timedelta(hours=25)  # a local day is at most 25 hours long (the fall-back day)
FIRST_LOOKBACK = timedelta(minutes=15)  # no previous run: the schedule's period


class PlannerRecords(Protocol):
    def scheduled(self, *, due_from: int = 0, due_until: int | None = None) -> Any: ...
    def read_many(self, keys: Sequence[dict[str, str]]) -> dict[tuple[str, str], dict[str, Any]]: ...
    def cancel(
        self, calendar: str, event_id: str, reason: str, *, now: float, version: str | None = None
    ) -> dict[str, Any] | None: ...
    def move(
        self, item: dict[str, Any], due_at_ms: int, local_day: str, *, moved_by_quiet_hours: bool, now: float
    ) -> bool: ...
    def release_slot(self, recipient: str, local_day: str, event_id: str) -> None: ...
    def claim_slot(self, recipient: str, local_day: str, event_id: str, limit: int) -> bool: ...
    def checkpoint(self, name: str, *, now: float | None = None) -> int | None: ...


class RecipientReader(Protocol):
    def get(self, phone: str) -> Recipient | None: ...


@dataclass
class PlannerRun:
    checked: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    recipients: dict[str, Recipient | None] = field(default_factory=dict)  # read once per run

    def record(self, item: dict[str, Any], change: str, reason: str | None) -> None:
        self.changes.append(
            {"calendar": item["calendar"], "event_id": item["event_id"], "change": change, "reason": reason}
        )
        if change == "moved":
            metrics.add_metric(name="RemindersPlannerMoved", unit="Count", value=1)
        else:
            metrics.add_metric(name="RemindersPlannerCancelled", unit="Count", value=1)


def day_began_between(item: dict[str, Any], after: datetime, until: datetime) -> bool:
    """Did the reminder's local day begin (midnight in its recipient's first zone) in (after, until]?"""
    if not item.get("local_day") or not item.get("zones"):
        return False
    midnight = rules.local_instant(date.fromisoformat(item["local_day"]), time(0), item["zones"][0])
    return after < midnight <= until


class DailyPlanner:
    def __init__(
        self,
        records: PlannerRecords,
        recipients: RecipientReader,
        is_suppressed: Callable[[str, str], bool],
        *,
        rollout: Rollout = ALWAYS,
        profile: rules.ComplianceProfile | None = None,
    ) -> None:
        self.records = records
        self.recipients = recipients
        self.is_suppressed = is_suppressed
        self.rollout = rollout
        self.profile = profile

    def run(self, *, now: float) -> dict[str, Any]:
        previous = self.records.checkpoint(RUN_NAME, now=now)
        until = datetime.fromtimestamp(now, tz=UTC)
        after = (
            datetime.fromtimestamp(previous / 1000, tz=UTC)
            if previous is not None
            else until - FIRST_LOOKBACK
        )
        entries = list(
            self.records.scheduled(
                due_from=int(after.timestamp() * 1000), due_until=int((until + LOOKAHEAD).timestamp() * 1000)
            )
        )
        todays = [
            item
            for item in self.records.read_many(entries).values()
            if item.get("state") == "scheduled" and day_began_between(item, after, until)
        ]
        run = PlannerRun(checked=len(todays))
        kept = [item for item in todays if self._revalidate(item, until, now, run)]
        self._within_daily_limits(kept, now, run)
        logger.info("daily planner run", checked=run.checked, changed=len(run.changes))
        return {"checked": run.checked, "changed": run.changes, "since": after.isoformat()}

    def _revalidate(self, item: dict[str, Any], until: datetime, now: float, run: PlannerRun) -> bool:
        """Judge one reminder again; True when it stays scheduled (possibly moved)."""
        recipient = self._recipient(item.get("phone"), run)
        if recipient is None:
            return True  # nothing to judge it by: the dispatcher re-validates it at send time anyway
        zones = _zones(recipient, item)
        blocked = self._blocked(recipient, item)
        decision = (
            rules.decide(
                _start(item),
                _all_day(item),
                zones,
                recipient_rules(recipient, self.profile, _variant_lead(item)),
                until,
            )
            if blocked is None
            else rules.Decision(None, blocked)
        )
        if decision.send_at is None:
            self._cancel(item, decision.reason or rules.TOO_LATE, now, run)
            return False
        return self._move(item, recipient, decision, zones[0], now, run)

    def _move(
        self,
        item: dict[str, Any],
        recipient: Recipient,
        decision: rules.Decision,
        zone: str,
        now: float,
        run: PlannerRun,
    ) -> bool:
        """Move to the decision's time, if it differs; onto another local day only with a slot there (else
        daily_limit). The move records whether quiet hours made it, for the day's reschedule rate."""
        assert decision.send_at is not None  # _revalidate cancels a decision with no time
        due_ms = int(decision.send_at.timestamp() * 1000)
        if due_ms == int(item["due_at"]):
            return True
        day = rules.local_day(decision.send_at, zone).isoformat()
        old_day, owner = item["local_day"], str(item.get("recipient") or "")
        other_day = bool(owner) and day != old_day
        if other_day and not self.records.claim_slot(owner, day, item["event_id"], recipient.daily_limit):
            self._cancel(item, rules.DAILY_LIMIT, now, run)
            return False
        moved = self.records.move(
            item, due_ms, day, moved_by_quiet_hours=decision.moved_by_quiet_hours, now=now
        )
        if not moved:
            return False  # sent or re-planned meanwhile
        if other_day:
            self.records.release_slot(owner, old_day, item["event_id"])
        run.record(item, "moved", None)
        item.update(due_at=due_ms, local_day=day)
        return True

    def _recipient(self, phone: str | None, run: PlannerRun) -> Recipient | None:
        if not phone:
            return None
        if phone not in run.recipients:
            run.recipients[phone] = self.recipients.get(phone)
        return run.recipients[phone]

    def _blocked(self, recipient: Recipient, item: dict[str, Any]) -> str | None:
        if self.is_suppressed("sms", recipient.phone):
            return rules.SUPPRESSED
        if not recipient.enabled:
            return rules.RECIPIENT_DISABLED
        return self.rollout.refusal(item["recipient"]) if item.get("recipient") else None

    def _within_daily_limits(self, kept: list[dict[str, Any]], now: float, run: PlannerRun) -> None:
        by_recipient: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in kept:
            by_recipient[item["phone"]].append(item)
        for phone, items in by_recipient.items():
            recipient = self._recipient(phone, run)
            if recipient is None:
                continue
            instants = [
                (i["event_id"], datetime.fromtimestamp(int(i["due_at"]) / 1000, tz=UTC)) for i in items
            ]
            excess = rules.over_daily_limit(instants, items[0]["zones"][0], recipient.daily_limit)
            for item in items:
                if item["event_id"] in excess:
                    self._cancel(item, rules.DAILY_LIMIT, now, run)

    def _cancel(self, item: dict[str, Any], reason: str, now: float, run: PlannerRun) -> None:
        old = self.records.cancel(
            item["calendar"], item["event_id"], reason, now=now, version=item["version"]
        )
        if old is None:
            return  # sent or re-planned meanwhile: that newer state stands
        if old.get("recipient") and old.get("local_day"):
            self.records.release_slot(old["recipient"], old["local_day"], item["event_id"])
        run.record(item, "cancelled", reason)


def _zones(recipient: Recipient, item: dict[str, Any]) -> tuple[str, ...]:
    """An operator's zone, set since the booking, wins; otherwise the zones the booking was planned in."""
    if recipient.zone_source == "operator" and recipient.time_zone:
        return (recipient.time_zone,)
    return tuple(item["zones"])


def _start(item: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(item["start"]) if item.get("start") else None


def _all_day(item: dict[str, Any]) -> date | None:
    return date.fromisoformat(item["all_day"]) if item.get("all_day") else None


@once_per_container
def default_planner() -> DailyPlanner:
    """The planner wired to the resources named in the environment, built once per container."""
    from switchboard.dal.address_keys import AddressKeys
    from switchboard.dal.job_records import JobRecords
    from switchboard.dal.recipients import Recipients
    from switchboard.dal.reminders import ReminderRecords
    from switchboard.dal.rollout_flag import RolloutFlagStore
    from switchboard.dal.secrets import WebhookSecrets
    from switchboard.function_settings import planner_settings

    settings = planner_settings()
    keys = AddressKeys.from_secrets(WebhookSecrets(settings.webhook_secrets_name))
    return DailyPlanner(
        ReminderRecords(settings.table_name),
        Recipients(settings.table_name, address_keys=keys),
        JobRecords(settings.table_name, address_keys=keys).is_suppressed,
        rollout=Rollout(RolloutFlagStore(settings.reminders_rollout_parameter).read),
        profile=rules.US_STATE_WINDOWS if settings.reminder_compliance_profile == "us_states" else None,
    )


def _variant_lead(item: dict[str, Any]) -> int | None:
    """A reminder planned under an A/B lead keeps it when its day is judged again."""
    lead = (item.get("variant") or {}).get("lead")
    return int(lead) if lead is not None else None
