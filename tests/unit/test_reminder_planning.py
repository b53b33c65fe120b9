"""Planning one event version's reminder (pure): versions, reasons, and what a change does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from switchboard.models.recipients import Recipient
from switchboard.models.reminders import ReminderState
from switchboard.services.reminders.planning import PlanningInput, plan_reminder, recipient_zones
from switchboard.services.reminders.text import TemplateWriter

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
EVENT: dict[str, Any] = {
    "provider": "calendar",
    "provider_message_id": "clinic:e1",
    "version": "00000000000000000002",
    "status": "confirmed",
    "title": "Physio",
    "start": "2026-12-01T15:00:00+00:00",
    "attendee_phone": "+14155550123",
}
RECIPIENT = Recipient(phone="+14155550123", time_zone="America/Los_Angeles", zone_source="booking")


def planned(event: dict[str, Any] = EVENT, stored: dict[str, Any] | None = None, **changes: Any):
    fields: dict[str, Any] = {
        "event": event,
        "stored": stored,
        "recipient": RECIPIENT,
        "recipient_digest": "d",
        "suppressed": False,
        "now": NOW,
        "writer": TemplateWriter(),
    }
    return plan_reminder(PlanningInput(**{**fields, **changes}))


def test_an_equal_or_older_stored_version_wins():
    assert planned(stored={"version": EVENT["version"], "state": "scheduled"}) is None
    assert planned(stored={"version": "00000000000000000003", "state": "cancelled"}) is None


def test_a_newer_version_is_planned_from_scratch():
    stored = {**EVENT, "version": "00000000000000000001", "state": "scheduled", "start": None}
    plan = planned({**EVENT, "start": "2026-12-01T18:00:00+00:00"}, stored)
    assert plan is not None and plan.state is ReminderState.SCHEDULED and plan.changes == ("rescheduled",)


def test_the_daily_limits_day_is_the_recipients_local_day():
    # 23:15Z on 30 November is 08:15 on 1 December in Tokyo
    tokyo = Recipient(phone="+819012345678", time_zone="Asia/Tokyo", zone_source="operator")
    plan = planned({**EVENT, "start": "2026-11-30T23:30:00+00:00"}, recipient=tokyo)
    assert plan is not None and plan.due_at == datetime(2026, 11, 30, 23, 15, tzinfo=UTC)
    assert plan.local_day == "2026-12-01"
    assert "08:30 JST" in plan.text  # 24-hour clock outside North America


def test_quiet_hours_ending_after_the_start_cancel_with_the_reason():
    # 07:00 in Los Angeles is 15:00Z: the quiet window ends at 08:00 local, after the start
    plan = planned()
    assert plan is not None and (plan.state, plan.reason) == (ReminderState.CANCELLED, "quiet_hours")


def test_blocking_reasons_come_before_any_time_rule():
    assert planned(recipient=None).reason == "no_phone"
    assert planned(suppressed=True).reason == "suppressed"
    assert planned({**EVENT, "status": "cancelled"}).reason == "event_cancelled"


def test_an_operator_zone_beats_the_booking_zone_which_beats_the_number():
    operator = Recipient(phone="+12085550123", time_zone="Asia/Tokyo", zone_source="operator")
    learned = Recipient(phone="+12085550123")
    assert recipient_zones({"attendee_time_zone": "UTC"}, operator) == ("Asia/Tokyo",)
    assert recipient_zones({"attendee_time_zone": "UTC"}, learned) == ("UTC",)
    assert set(recipient_zones({}, learned)) == {"America/Boise", "America/Los_Angeles"}


def test_a_sent_reminder_stays_sent_when_only_the_text_changes():
    stored = {**EVENT, "version": "00000000000000000001", "state": "sent"}
    plan = planned({**EVENT, "title": "Renamed"}, stored)
    assert plan is not None and plan.state is ReminderState.SENT and plan.due_at is None
