"""The daily rollup of the reminder numbers (stats.py): computed from the day's records, stored (one item
per recipient and one for the day, dal/reminder_stats.py), and the day's rates emitted as metrics.

It runs with the daily digest (ReconcileFunction's DailyDigest schedule), on the digest's own Scan of the
day. Nothing is counted on the hot path: a counter per send would add a write to every reminder, which
is the reason ADR 0016 reads the day instead. `switchboard metrics reminders` reads the stored rows and
computes a day not rolled up yet (today), saying so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from switchboard.dal.reminders import REMINDER_SK
from switchboard.models.reminders import DayStats
from switchboard.observability import logger, service_metric
from switchboard.services.reminders import stats

STORED, COMPUTED, NOT_ROLLED_UP = "stored", "computed, not stored", "not rolled up"


class StatsStore(Protocol):
    def put(self, stats: DayStats, now: float) -> int: ...
    def days(self, first: str, last: str) -> list[dict[str, Any]]: ...
    def recipient_days(self, recipient_id: str, first: str, last: str) -> list[dict[str, Any]]: ...
    def suppressed_since(self, recipient_ids: Collection[str]) -> Mapping[str, str]: ...
    def recipients_of(self, reminder_pks: Collection[str]) -> Mapping[str, str]: ...


def reminders_in(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The reminder records among the day's (the digest's Scan returns events and deliveries too)."""
    return [record for record in records if record.get("sk") == REMINDER_SK]


def days_ending(last: str, days: int) -> list[str]:
    end = date.fromisoformat(last)
    return [(end - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]


@dataclass
class ReminderRollup:
    store: StatsStore
    calls_on: Callable[[str], Iterable[dict[str, Any]]]  # the day's AI usage records
    records_of: Callable[[str], Iterable[dict[str, Any]]]  # the day's Scan (dal/daily_records.py)
    clock: Callable[[], float] = time.time

    def compute(self, day: str, records: Iterable[Mapping[str, Any]] | None = None) -> DayStats:
        """The day's numbers from its records (read when not given)."""
        lookups = stats.Lookups(self.store.suppressed_since, self.store.recipients_of)
        reminders = reminders_in(self.records_of(day) if records is None else records)
        return stats.compute(day, reminders, self.calls_on(day), lookups)

    def roll_up(self, day: str, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Compute, store (a rerun replaces the day's items) and emit the day; its row for the digest."""
        computed = self.compute(day, records)
        written = self.store.put(computed, self.clock())
        emit_day(computed.total)
        logger.info("reminder numbers rolled up", day=day, items=written, recipients=len(computed.recipients))
        return {"source": STORED, "recipients": len(computed.recipients), **computed.total}

    def day_row(self, day: str, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """The stored row of the day, else computed from `records` (the digest's Scan) and said so."""
        stored = self.store.days(day, day)
        if stored:
            return {"source": STORED, **_numbers(stored[0])}
        computed = self.compute(day, records)
        return {"source": COMPUTED, "recipients": len(computed.recipients), **computed.total}

    def day_rows(self, last: str, days: int) -> list[dict[str, Any]]:
        """One row per day, oldest first: the stored ones from one Query; a day the rollup may not have
        reached yet (today, yesterday before 06:00 UTC) computed; an older one missing says so."""
        stored = {str(row["day"]): row for row in self.store.days(*_span(last, days))}
        rows = []
        for day in days_ending(last, days):
            if day in stored:
                rows.append({"day": day, "source": STORED, **_numbers(stored[day])})
            elif self._may_be_pending(day):
                computed = self.compute(day)
                rows.append(
                    {"day": day, "source": COMPUTED, "recipients": len(computed.recipients), **computed.total}
                )
            else:
                rows.append({"day": day, "source": NOT_ROLLED_UP})
        return rows

    def recipient_rows(self, recipient_id: str, last: str, days: int) -> list[dict[str, Any]]:
        """One recipient's rows, oldest first: the stored ones from one Query on its partition; a day the
        rollup may not have reached yet computed. No row: no reminder of theirs that day."""
        stored = {str(row["day"]): row for row in self.store.recipient_days(recipient_id, *_span(last, days))}
        rows = []
        for day in days_ending(last, days):
            if day in stored:
                rows.append({"day": day, "source": STORED, **_numbers(stored[day])})
            elif self._may_be_pending(day) and recipient_id in (computed := self.compute(day)).recipients:
                rows.append({"day": day, "source": COMPUTED, **computed.recipients[recipient_id]})
        return rows

    def _may_be_pending(self, day: str) -> bool:
        """The digest rolls up yesterday at 06:00 UTC: yesterday and later may not be stored yet."""
        return day >= (datetime.fromtimestamp(self.clock(), UTC).date() - timedelta(days=1)).isoformat()


def emit_day(total: Mapping[str, Any]) -> None:
    """The day's rates (and LLM cost) as metrics, once per rollup: every name here, each a literal, so
    tests/unit/test_dashboard.py finds it on OperationsDashboard's "Reminders per day" widget."""
    _emit("ReminderDayDeliveryRate", total["delivery_rate"])
    _emit("ReminderDayOptOutRate", total["opt_out_rate"])
    _emit("ReminderDayQuietHoursRate", total["quiet_hours_rate"])
    _emit("ReminderDayDailyLimitRate", total["daily_limit_rate"])
    _emit("ReminderDayLlmSuccessRate", total["llm_success_rate"])
    _emit("ReminderDayLlmCostUsd", total["llm_cost_usd"], "None")


def _emit(metric: str, value: float | None, unit: str = "Percent") -> None:
    if value is not None:  # no denominator that day: no datapoint, rather than a false 0 %
        service_metric(metric, value, unit)


def _span(last: str, days: int) -> tuple[str, str]:
    return days_ending(last, days)[0], last


def _numbers(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row without its storage fields (keys, TTL), the source first."""
    hidden = {"pk", "sk", "kind", "day", "expires_at", "source"}
    return {name: value for name, value in row.items() if name not in hidden}
