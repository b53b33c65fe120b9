"""Reminder and delivery numbers per recipient and for the day (issue 13, item 1): pure, from the day's
reminder records, that day's `reminder.text` model calls and a suppression lookup.

The day is a UTC day, the digest's. A reminder counts on the UTC day of its send time (`due_at`, which
the record keeps after it leaves the due index and when it is cancelled later). A reminder cancelled
while it was planned, before it had a send time (no phone, suppressed, event cancelled, no time left
before the start, the daily limit, the rollout), counts on the UTC day it was planned instead: its
`updated_at`, because a cancelled record is never updated again. dal/daily_records.py reads exactly
these records in the digest's one Scan. The LLM numbers are the model calls made that UTC day (the
AIUSAGE#<day> partition the digest's AI cost reads). Each call is attributed to the recipient of the
reminder it wrote: its job is the calendar event, whose pk the reminder shares.

Rates are percentages, None when their denominator is 0:
- delivery_rate = delivered / (delivered + failed): final outcomes, as in the digest's delivery rate;
- opt_out_rate = opt_outs / sent. An opt-out is a recipient whose number was suppressed at or after
  one of its reminders of the day was sent. It counts once per recipient. The suppression record keeps
  only the latest change, so an opt-in since hides the opt-out: a lower bound;
- quiet_hours_rate = quiet_hours_moved / scheduled. A reminder counts as moved when it was moved to the
  end of a quiet window when planned or when the daily planner judged it again, or deferred for quiet
  hours at dispatch;
- daily_limit_rate = daily_limit cancels / (scheduled + limit cancels that never had a send time),
  i.e. the share of the reminders that reached the limit;
- llm_success_rate = successful `reminder.text` calls / calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.models.reminders import DayStats
from switchboard.services.rates import percent
from switchboard.services.reminders import rules
from switchboard.services.reminders.delivery import instant_ms
from switchboard.services.reminders.llm_text import FEATURE as REMINDER_TEXT

PENDING = frozenset({"scheduled", "queued"})


@dataclass(frozen=True)
class Lookups:
    """What the records of the day do not hold, read in batches by the caller."""

    suppressed_since: Callable[[Collection[str]], Mapping[str, str]]  # recipient id -> opt-out ISO time
    recipients_of: Callable[[Collection[str]], Mapping[str, str]]  # reminder pk -> recipient id


def opted_out_after(sent_at_ms: Any, suppressed_since_ms: int | None) -> bool:
    """Did the number opt out at or after this send? (variant_report.py counts its arms by it too.)"""
    if sent_at_ms is None or suppressed_since_ms is None:
        return False
    return suppressed_since_ms >= int(sent_at_ms)


@dataclass
class Tally:
    reminders: int = 0
    scheduled: int = 0
    pending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    cancelled: Counter[str] = field(default_factory=Counter)
    quiet_hours_moved: int = 0
    limit_reached: int = 0  # scheduled + daily-limit cancels that never had a send time
    delivery_ms: int = 0
    timed_deliveries: int = 0
    opt_outs: int = 0
    texts: Counter[str] = field(default_factory=Counter)
    llm_calls: int = 0
    llm_failures: int = 0
    llm_ms: int = 0
    llm_cost_usd: float = 0.0

    def add_reminder(self, item: Mapping[str, Any]) -> None:
        state = str(item.get("state", ""))
        scheduled = item.get("due_at") is not None
        self.reminders += 1
        self.scheduled += scheduled
        self.pending += state in PENDING
        self.sent += item.get("sent_at") is not None
        self.delivered += state == "delivered"
        self.failed += state == "failed"
        if state == "cancelled":
            self.cancelled[str(item.get("reason") or "unknown")] += 1
        self.limit_reached += scheduled or item.get("reason") == rules.DAILY_LIMIT
        if scheduled:
            self.quiet_hours_moved += bool(item.get("moved_by_quiet_hours") or item.get("deferred_reason"))
            self.texts[str((item.get("variant") or {}).get("text") or "template")] += 1
        if state == "delivered" and item.get("sent_at") is not None and item.get("delivered_at") is not None:
            self.delivery_ms += max(0, int(item["delivered_at"]) - int(item["sent_at"]))
            self.timed_deliveries += 1

    def add_call(self, call: Mapping[str, Any]) -> None:
        self.llm_calls += 1
        self.llm_failures += call.get("outcome") != "ok"
        self.llm_ms += int(call.get("latency_ms") or 0)
        self.llm_cost_usd += float(call.get("cost_usd") or 0)

    def row(self) -> dict[str, Any]:
        return {
            "reminders": self.reminders,
            "scheduled": self.scheduled,
            "pending": self.pending,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "cancelled": dict(sorted(self.cancelled.items())),
            "delivery_rate": percent(self.delivered, self.delivered + self.failed),
            "average_delivery_seconds": round(self.delivery_ms / self.timed_deliveries / 1000, 1)
            if self.timed_deliveries
            else None,
            "opt_outs": self.opt_outs,
            "opt_out_rate": percent(self.opt_outs, self.sent),
            "quiet_hours_moved": self.quiet_hours_moved,
            "quiet_hours_rate": percent(self.quiet_hours_moved, self.scheduled),
            "daily_limit": self.cancelled[rules.DAILY_LIMIT],
            "daily_limit_rate": percent(self.cancelled[rules.DAILY_LIMIT], self.limit_reached),
            "texts": {"template": self.texts["template"], "llm": self.texts["llm"]},
            "llm_calls": self.llm_calls,
            "llm_failures": self.llm_failures,
            "llm_success_rate": percent(self.llm_calls - self.llm_failures, self.llm_calls),
            "llm_average_ms": round(self.llm_ms / self.llm_calls) if self.llm_calls else None,
            "llm_cost_usd": round(self.llm_cost_usd, 6),
        }


def compute(
    day: str, reminders: Iterable[Mapping[str, Any]], calls: Iterable[Mapping[str, Any]], lookups: Lookups
) -> DayStats:
    """The day's numbers and each recipient's (`reminders`: the day's records, as defined above; `calls`:
    the day's model calls, of any feature)."""
    total = Tally()
    by_recipient: dict[str, Tally] = {}
    first_sent: dict[str, int] = {}  # the earliest send of the day per recipient: an opt-out after it counts
    recipient_of: dict[str, str] = {}
    for item in reminders:
        total.add_reminder(item)
        recipient = item.get("recipient")
        if not recipient:
            continue  # no number, no recipient: in the day's numbers only
        recipient_of[str(item["pk"])] = str(recipient)
        by_recipient.setdefault(str(recipient), Tally()).add_reminder(item)
        if item.get("sent_at") is not None:
            sent = int(item["sent_at"])
            first_sent[str(recipient)] = min(sent, first_sent.get(str(recipient), sent))
    since = lookups.suppressed_since(sorted(first_sent)) if first_sent else {}
    for recipient, sent in first_sent.items():
        if recipient in since and opted_out_after(sent, instant_ms(since[recipient], 0)):
            by_recipient[recipient].opt_outs += 1
            total.opt_outs += 1
    _add_calls(calls, total, by_recipient, recipient_of, lookups)
    return DayStats(day, total.row(), {rid: tally.row() for rid, tally in sorted(by_recipient.items())})


def _add_calls(
    calls: Iterable[Mapping[str, Any]],
    total: Tally,
    by_recipient: dict[str, Tally],
    recipient_of: dict[str, str],
    lookups: Lookups,
) -> None:
    """Each `reminder.text` call into the day and its recipient's row; a reminder planned today for a
    later day is not among the day's records, so its recipient is looked up."""
    texts = [call for call in calls if call.get("feature") == REMINDER_TEXT]
    unknown = {str(call.get("job_pk")) for call in texts} - set(recipient_of)
    if unknown:
        recipient_of = {**recipient_of, **lookups.recipients_of(sorted(unknown))}
    for call in texts:
        total.add_call(call)
        recipient = recipient_of.get(str(call.get("job_pk")))
        if recipient:
            by_recipient.setdefault(recipient, Tally()).add_call(call)
