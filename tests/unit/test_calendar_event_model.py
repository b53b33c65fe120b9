"""The canonical CalendarEvent: aware instants or an all-day date, IANA zones, and its idempotency key."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from model_factories import calendar_event
from pydantic import ValidationError

from switchboard.dal.events_table import event_key
from switchboard.models import CalendarEvent, CalendarStatus

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def booking(**overrides: Any) -> CalendarEvent:
    return calendar_event(**{"start": START, "time_zone": "America/New_York", **overrides})


def test_idempotency_key_is_calendar_event_id_and_version():
    # Given two versions of one booking
    first, second = booking(), booking(version="00001795593700000")
    # When their keys are built
    keys = event_key(first), event_key(second)
    # Then they share the event's partition and differ by version only
    assert keys[0] == {"pk": "EVT#calcom#bk-1", "sk": "CAL#00001795593600000"}
    assert keys[1] == {"pk": "EVT#calcom#bk-1", "sk": "CAL#00001795593700000"}


def test_naive_start_is_refused():
    with pytest.raises(ValidationError, match="time zone"):
        booking(start=datetime(2026, 12, 1, 15, 0))


def test_unknown_zone_is_refused():
    with pytest.raises(ValidationError, match="IANA"):
        booking(attendee_time_zone="Mars/Olympus_Mons")


def test_an_event_needs_a_start_or_an_all_day_date_but_not_both():
    with pytest.raises(ValidationError, match="either"):
        booking(start=None)
    with pytest.raises(ValidationError, match="either"):
        booking(all_day=date(2026, 12, 1))


def test_all_day_event_is_valid_without_a_start():
    event = booking(start=None, all_day=date(2026, 12, 1))
    assert event.all_day == date(2026, 12, 1)


def test_a_cancellation_needs_no_time():
    # Calendly's and our own cancellations may carry only the id
    event = booking(start=None, status=CalendarStatus.CANCELLED)
    assert event.status is CalendarStatus.CANCELLED
