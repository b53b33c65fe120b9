"""The canonical CalendarEvent: aware instants or an all-day date, IANA zones, and its idempotency key."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from switchboard.dal.events_table import event_key
from switchboard.models import CalendarEvent, CalendarStatus

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def calendar_event(**overrides: Any) -> CalendarEvent:
    fields: dict[str, Any] = {
        "provider": "calcom",
        "provider_message_id": "bk_3f9a",
        "occurred_at": datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
        "event_type": "BOOKING_CREATED",
        "raw": {},
        "version": "00001795593600000",
        "status": CalendarStatus.CONFIRMED,
        "start": START,
        "time_zone": "America/New_York",
    }
    return CalendarEvent(**{**fields, **overrides})


def test_idempotency_key_is_calendar_event_id_and_version():
    # Given two versions of one booking
    first, second = calendar_event(), calendar_event(version="00001795593700000")
    # When their keys are built
    keys = event_key(first), event_key(second)
    # Then they share the event's partition and differ by version only
    assert keys[0] == {"pk": "EVT#calcom#bk_3f9a", "sk": "CAL#00001795593600000"}
    assert keys[1] == {"pk": "EVT#calcom#bk_3f9a", "sk": "CAL#00001795593700000"}


def test_naive_start_is_refused():
    with pytest.raises(ValidationError, match="time zone"):
        calendar_event(start=datetime(2026, 12, 1, 15, 0))


def test_unknown_zone_is_refused():
    with pytest.raises(ValidationError, match="IANA"):
        calendar_event(attendee_time_zone="Mars/Olympus_Mons")


def test_an_event_needs_a_start_or_an_all_day_date_but_not_both():
    with pytest.raises(ValidationError, match="either"):
        calendar_event(start=None)
    with pytest.raises(ValidationError, match="either"):
        calendar_event(all_day=date(2026, 12, 1))


def test_all_day_event_is_valid_without_a_start():
    event = calendar_event(start=None, all_day=date(2026, 12, 1))
    assert event.all_day == date(2026, 12, 1)


def test_a_cancellation_needs_no_time():
    # Calendly's and our own cancellations may carry only the id
    event = calendar_event(start=None, status=CalendarStatus.CANCELLED)
    assert event.status is CalendarStatus.CANCELLED
