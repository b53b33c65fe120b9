"""Reminder numbers per recipient and per day (services/reminders/stats.py): known answers, by hand."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from switchboard.services.reminders.stats import Lookups, compute

DAY = "2026-12-01"
T = int(datetime(2026, 12, 1, 15, tzinfo=UTC).timestamp() * 1000)  # a send time on the day (ms)


def reminder(event: str, recipient: str | None, state: str, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": f"EVT#calcom#{event}", "sk": "REMINDER", "state": state, **fields}
    if recipient:
        item["recipient"] = recipient
    return item


def sent(event: str, recipient: str, state: str, at: int = T, **fields: Any) -> dict[str, Any]:
    return reminder(event, recipient, state, due_at=at, sent_at=at, **fields)


def call(event: str, outcome: str = "ok", latency_ms: int = 800, cost: float = 0.0003) -> dict[str, Any]:
    return {
        "feature": "reminder.text",
        "job_pk": f"EVT#calcom#{event}",
        "outcome": outcome,
        "latency_ms": latency_ms,
        "cost_usd": cost,
    }


def lookups(suppressed: dict[str, str] | None = None, owners: dict[str, str] | None = None) -> Lookups:
    def suppressed_since(ids: Collection[str]) -> dict[str, str]:
        return {rid: at for rid, at in (suppressed or {}).items() if rid in ids}

    def recipients_of(pks: Collection[str]) -> dict[str, str]:
        return {pk: rid for pk, rid in (owners or {}).items() if pk in pks}

    return Lookups(suppressed_since, recipients_of)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def test_a_reminder_moved_by_quiet_hours_counts_in_its_recipients_reschedule_rate():
    # Given r1's two scheduled reminders, one moved out of quiet hours when planned, and r2's one deferred
    # at dispatch
    records = [
        reminder("a", "r1", "scheduled", due_at=T, moved_by_quiet_hours=True),
        reminder("b", "r1", "queued", due_at=T),
        reminder("c", "r2", "scheduled", due_at=T, deferred_reason="quiet_hours_at_dispatch"),
    ]

    stats = compute(DAY, records, [], lookups())

    # Then half of r1's and all of r2's were rescheduled: two of the day's three
    assert (stats.recipients["r1"]["quiet_hours_moved"], stats.recipients["r1"]["quiet_hours_rate"]) == (
        1,
        50.0,
    )
    assert stats.recipients["r2"]["quiet_hours_rate"] == 100.0
    assert (stats.total["quiet_hours_moved"], stats.total["quiet_hours_rate"]) == (2, 66.67)
    assert stats.total["pending"] == 3


def test_daily_limit_cancels_count_against_the_reminders_that_reached_the_limit():
    # Given a recipient with 5 reminders scheduled and 2 more cancelled by its daily limit when planned
    records = [reminder(f"s{n}", "r1", "scheduled", due_at=T + n) for n in range(5)]
    records += [reminder(f"x{n}", "r1", "cancelled", reason="daily_limit") for n in range(2)]

    stats = compute(DAY, records, [], lookups())

    # Then 2 of the 7 that reached the limit were cut, and the limit is listed among the cancel reasons
    row = stats.recipients["r1"]
    assert (row["daily_limit"], row["daily_limit_rate"]) == (2, 28.57)
    assert (row["reminders"], row["scheduled"], row["cancelled"]) == (7, 5, {"daily_limit": 2})


def test_a_failed_delivery_lowers_the_delivery_rate_of_its_recipient_and_the_day():
    # Given r1: one delivered and one failed; r2: one delivered
    records = [
        sent("a", "r1", "delivered", delivered_at=T + 4000),
        sent("b", "r1", "failed", failed_at=T + 9000),
        sent("c", "r2", "delivered", delivered_at=T + 2000),
    ]

    stats = compute(DAY, records, [], lookups())

    assert (stats.recipients["r1"]["delivered"], stats.recipients["r1"]["failed"]) == (1, 1)
    assert stats.recipients["r1"]["delivery_rate"] == 50.0
    assert stats.recipients["r2"]["delivery_rate"] == 100.0
    assert (stats.total["sent"], stats.total["delivery_rate"]) == (3, 66.67)


def test_the_average_send_to_delivered_time_covers_delivered_reminders_only():
    records = [
        sent("a", "r1", "delivered", delivered_at=T + 4000),
        sent("b", "r1", "delivered", delivered_at=T + 2000),
        sent("c", "r1", "sent"),  # no callback yet
    ]

    stats = compute(DAY, records, [], lookups())

    assert stats.recipients["r1"]["average_delivery_seconds"] == 3.0


def test_an_llm_text_with_its_cost_counts_for_its_recipient_and_the_day():
    # Given r1's reminder written by the model (one call, 0.0003 USD, 800 ms) and r2's by the template
    records = [
        sent("a", "r1", "delivered", variant={"text": "llm", "assigned_text": "llm", "lead": 15}),
        sent("b", "r2", "delivered", variant={"text": "template", "assigned_text": "template", "lead": 15}),
    ]
    calls = [
        call("a"),
        {**call("z"), "feature": "draft.generate"},
    ]  # another feature's call: not a reminder's

    stats = compute(DAY, records, calls, lookups())

    row = stats.recipients["r1"]
    assert row["texts"] == {"template": 0, "llm": 1}
    assert (row["llm_calls"], row["llm_success_rate"], row["llm_average_ms"], row["llm_cost_usd"]) == (
        1,
        100.0,
        800,
        0.0003,
    )
    assert stats.recipients["r2"]["llm_calls"] == 0
    assert stats.total["texts"] == {"template": 1, "llm": 1}
    assert (stats.total["llm_calls"], stats.total["llm_cost_usd"]) == (1, 0.0003)


def test_a_failed_llm_call_for_a_reminder_due_another_day_counts_for_its_recipient_through_the_lookup():
    # Given a model call made today that timed out, for a reminder due next week (not among today's records)
    calls = [call("later", outcome="timeout", latency_ms=3000, cost=0.0)]

    stats = compute(DAY, [], calls, lookups(owners={"EVT#calcom#later": "r3"}))

    assert stats.recipients["r3"]["llm_failures"] == 1
    assert (stats.total["llm_success_rate"], stats.total["llm_average_ms"]) == (0.0, 3000)


def test_an_opt_out_after_the_reminder_counts_once_per_recipient():
    # Given r1's two reminders sent, then its number opted out a minute later; r2 never opted out
    records = [
        sent("a", "r1", "delivered"),
        sent("b", "r1", "delivered", at=T + 30_000),
        sent("c", "r2", "sent"),
    ]

    stats = compute(DAY, records, [], lookups(suppressed={"r1": iso(T + 60_000)}))

    assert (stats.recipients["r1"]["opt_outs"], stats.recipients["r1"]["opt_out_rate"]) == (1, 50.0)
    assert (stats.recipients["r2"]["opt_outs"], stats.recipients["r2"]["opt_out_rate"]) == (0, 0.0)
    assert (stats.total["opt_outs"], stats.total["opt_out_rate"]) == (1, 33.33)


def test_an_opt_out_before_the_reminder_was_sent_is_not_counted():
    records = [sent("a", "r1", "delivered")]

    stats = compute(DAY, records, [], lookups(suppressed={"r1": iso(T - 60_000)}))

    assert stats.total["opt_outs"] == 0


def test_rates_are_none_when_their_denominator_is_zero():
    # Given only a booking without a phone, cancelled when planned
    stats = compute(DAY, [reminder("a", None, "cancelled", reason="no_phone")], [], lookups())

    # Then nothing was sent, scheduled or written by a model: no rate, not 0 %
    rates = ("delivery_rate", "opt_out_rate", "quiet_hours_rate", "daily_limit_rate", "llm_success_rate")
    assert {name: stats.total[name] for name in rates} == dict.fromkeys(rates)
    assert (stats.total["average_delivery_seconds"], stats.total["llm_average_ms"]) == (None, None)
    assert stats.total["cancelled"] == {"no_phone": 1}
    assert stats.recipients == {}  # no number, no recipient row
