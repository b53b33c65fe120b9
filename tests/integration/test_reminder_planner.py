"""The daily planner against moto: when a recipient's local day begins, its scheduled reminders are
judged again with the recipient's current settings, and every change is recorded with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
from test_reminder_records import NOW, NY, PHONE, START, local_due, reminder, stored_version  # same dir

from switchboard.dal.job_records import JobRecords
from switchboard.dal.recipients import Recipients
from switchboard.dal.reminders import ReminderRecords
from switchboard.models.recipients import Recipient
from switchboard.services.reminders.daily import DailyPlanner
from switchboard.services.reminders.service import ReminderService
from switchboard_ops.project import load_event, load_handler

planner_handler = load_handler("reminder_planner")
BEFORE_NY_MIDNIGHT = datetime(2026, 12, 1, 4, 50, tzinfo=UTC).timestamp()  # 23:50 in New York
AFTER_NY_MIDNIGHT = datetime(2026, 12, 1, 5, 5, tzinfo=UTC).timestamp()  # 00:05 on the booking's day


@pytest.fixture
def table(stack) -> str:
    return stack.tables["EventsTable"]


@pytest.fixture
def book(table) -> Any:
    service = ReminderService(Recipients(table), ReminderRecords(table), JobRecords(table).is_suppressed)

    def booked(event_id: str, **changes: Any) -> None:
        service.process(stored_version(table, 1, provider_message_id=event_id, **changes), now=NOW)

    return booked


@pytest.fixture
def planner(table) -> DailyPlanner:
    return DailyPlanner(ReminderRecords(table), Recipients(table), JobRecords(table).is_suppressed)


def recipient(table: str, **settings: Any) -> None:
    Recipients(table).put(
        Recipient(phone=PHONE, time_zone="America/New_York", zone_source="operator", **settings), now=NOW
    )


def test_a_reminder_is_rejudged_only_once_its_local_day_has_begun(table, book, planner):
    # Given a 09:45 reminder, and since the booking the recipient's quiet hours now run until 10:00
    book("bk-1")
    recipient(table, quiet_end=time(10, 0))
    # When the planner runs just before and then just after New York's midnight
    before = planner.run(now=BEFORE_NY_MIDNIGHT - 15 * 60)
    planner.run(now=BEFORE_NY_MIDNIGHT)
    after = planner.run(now=AFTER_NY_MIDNIGHT)
    # Then only the run after midnight judged it: quiet until the start, so cancelled with that reason
    assert before["checked"] == 0
    assert after["checked"] == 1
    assert after["changed"] == [
        {"calendar": "calcom", "event_id": "bk-1", "change": "cancelled", "reason": "quiet_hours"}
    ]
    assert (reminder(table)["state"], reminder(table)["reason"]) == ("cancelled", "quiet_hours")


def test_a_longer_quiet_window_moves_the_reminder_to_its_end(table, book, planner):
    book("bk-1")
    recipient(table, quiet_end=time(9, 50))
    planner.run(now=BEFORE_NY_MIDNIGHT)
    result = planner.run(now=AFTER_NY_MIDNIGHT)
    assert [c["change"] for c in result["changed"]] == ["moved"]
    moved = reminder(table)
    assert (moved["state"], local_due(moved).strftime("%H:%M")) == ("scheduled", "09:50")
    assert moved["changes"][-1] == "planner_moved"
    assert moved["moved_by_quiet_hours"] is True  # counted in the day's quiet-hours reschedule rate


def test_a_move_back_out_of_quiet_hours_is_no_longer_counted_as_moved_by_them(table, book, planner):
    # Given a reminder planned at the end of the recipient's quiet hours (09:50, not its 09:45)
    recipient(table, quiet_end=time(9, 50))
    book("bk-1")
    assert (local_due(reminder(table)).strftime("%H:%M"), reminder(table)["moved_by_quiet_hours"]) == (
        "09:50",
        True,
    )
    # When the recipient's quiet hours end earlier again and its local day begins
    recipient(table)
    planner.run(now=BEFORE_NY_MIDNIGHT)
    planner.run(now=AFTER_NY_MIDNIGHT)
    # Then it is moved back to its lead time, and quiet hours no longer count as having moved it
    moved = reminder(table)
    assert (local_due(moved).strftime("%H:%M"), moved["moved_by_quiet_hours"]) == ("09:45", False)


def test_a_recipient_disabled_since_the_booking_gets_no_reminder(table, book, planner):
    book("bk-1")
    recipient(table, enabled=False)
    planner.run(now=BEFORE_NY_MIDNIGHT)
    planner.run(now=AFTER_NY_MIDNIGHT)
    assert (reminder(table)["state"], reminder(table)["reason"]) == ("cancelled", "recipient_disabled")


def test_a_lowered_daily_limit_cancels_the_days_latest_reminders(table, book, planner):
    # Given three reminders on one day, then the recipient's limit lowered to 1
    for hour, event_id in ((10, "a"), (11, "b"), (12, "c")):
        book(event_id, start=START.replace(hour=hour))
    recipient(table, daily_limit=1)
    planner.run(now=BEFORE_NY_MIDNIGHT)
    planner.run(now=AFTER_NY_MIDNIGHT)
    # Then the earliest stays, the others are cancelled with reason daily_limit
    states = {e: (reminder(table, e)["state"], reminder(table, e).get("reason")) for e in "abc"}
    assert states == {
        "a": ("scheduled", None),
        "b": ("cancelled", "daily_limit"),
        "c": ("cancelled", "daily_limit"),
    }


def test_unchanged_settings_change_nothing(table, book, planner):
    book("bk-1")
    planner.run(now=BEFORE_NY_MIDNIGHT)
    result = planner.run(now=AFTER_NY_MIDNIGHT)
    assert (result["checked"], result["changed"]) == (1, [])
    assert local_due(reminder(table)).astimezone(NY).strftime("%H:%M") == "09:45"


def test_the_scheduled_event_runs_the_planner_through_its_handler(stack, monkeypatch, lambda_context):
    monkeypatch.setenv("REMINDERS_ROLLOUT_PARAMETER", stack.parameters["RemindersRolloutParameter"])
    result = planner_handler.handler(load_event("reminder_planner/scheduled"), lambda_context)
    assert (result["checked"], result["changed"]) == (0, [])


def test_a_move_onto_the_next_day_takes_a_slot_there_and_frees_the_old_days(table, book, planner, dynamodb):
    # Given a 22:30 reminder (lead 10 h, quiet only 03:00-04:00 when booked) for an 08:30 start
    recipient(table, quiet_start=time(3, 0), quiet_end=time(4, 0), lead_minutes=600)
    book("bk-1", start=START.replace(hour=8, minute=30))
    assert reminder(table)["local_day"] == "2026-11-30"
    # When the recipient's quiet hours become 21:00-08:00 and the planner runs as Nov 30 begins
    recipient(table, lead_minutes=600)
    planner.run(now=BEFORE_NY_MIDNIGHT - 24 * 3600)
    planner.run(now=AFTER_NY_MIDNIGHT - 24 * 3600)
    # Then it moves to 08:00 on Dec 1, and the daily counters follow it
    moved = reminder(table)
    assert (moved["local_day"], local_due(moved).strftime("%d %H:%M")) == ("2026-12-01", "01 08:00")
    days = {
        item["sk"]["S"]: {*item.get("ids", {}).get("SS", [])}
        for item in dynamodb.scan(TableName=table)["Items"]
        if item["sk"]["S"].startswith("DAY#")
    }
    assert days == {"DAY#2026-12-01": {"bk-1"}, "DAY#2026-11-30": set()}


def test_the_handler_rejudges_a_reminder_once_its_recipients_local_day_begins(
    stack, book, table, monkeypatch, lambda_context
):
    # Given a 09:45 reminder whose recipient's quiet hours now run until 10:00, and the rollout parameter
    monkeypatch.setenv("REMINDERS_ROLLOUT_PARAMETER", stack.parameters["RemindersRolloutParameter"])
    book("bk-1")
    recipient(table, quiet_end=time(10, 0))
    event = load_event("reminder_planner/scheduled")
    # When the scheduled event reaches the handler just before and then just after New York's midnight
    # (the clock is the handler's only input that cannot be set from outside)
    monkeypatch.setattr(planner_handler.time, "time", lambda: BEFORE_NY_MIDNIGHT)
    planner_handler.handler(event, lambda_context)
    monkeypatch.setattr(planner_handler.time, "time", lambda: AFTER_NY_MIDNIGHT)
    after = planner_handler.handler(event, lambda_context)
    # Then the second run judged it with the current settings: cancelled for the quiet hours
    assert after["changed"] == [
        {"calendar": "calcom", "event_id": "bk-1", "change": "cancelled", "reason": "quiet_hours"}
    ]
    assert reminder(table)["state"] == "cancelled"


def test_a_reminder_planned_under_a_variant_keeps_its_lead_when_its_day_is_rejudged(table, planner):
    # Given a recipient whose own lead is 45 minutes, booked with variants on (its lead arm: 15)
    from switchboard.services.reminders.variants import assign

    recipient(table, lead_minutes=45)
    service = ReminderService(
        Recipients(table), ReminderRecords(table), JobRecords(table).is_suppressed, variants=True
    )
    service.process(stored_version(table, 1, provider_message_id="bk-v"), now=NOW)
    planned = reminder(table, "bk-v")
    assert planned["variant"]["lead"] == assign(Recipients(table).id_of(PHONE)).lead == 15
    # When the planner judges its day again
    planner.run(now=BEFORE_NY_MIDNIGHT)
    result = planner.run(now=AFTER_NY_MIDNIGHT)
    # Then it is not moved back to the recipient's own lead: still 15 minutes before 10:00
    assert result["changed"] == []
    assert local_due(reminder(table, "bk-v")).astimezone(NY).strftime("%H:%M") == "09:45"
