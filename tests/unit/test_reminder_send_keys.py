"""A reminder's send key names its reminder and version, whatever the event id holds."""

from __future__ import annotations

from switchboard.dal.reminder_sends import parse_send_key
from switchboard.models.reminders import ReminderPlan, ReminderState


def test_a_send_key_names_the_calendar_the_event_and_the_version_even_with_colons_in_the_id():
    plan = ReminderPlan("calendly", "evt:2026:abc", "00000000000000000007", ReminderState.SCHEDULED)

    assert parse_send_key(plan.send_key) == ("calendly", "evt:2026:abc", "00000000000000000007")


def test_other_send_keys_are_not_reminders():
    assert parse_send_key("canary:1796137200") is None
    assert parse_send_key("reminder-42") is None
