"""One way to build a canonical model in a test: defaults that validate, and keyword changes for what the
test is about (`message(provider_message_id="SMstuck", body="STOP")`). Any tier imports it by name
(`from model_factories import message`): tests/ is on sys.path through its conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from switchboard.models import CalendarEvent, CalendarStatus, Channel, Direction, Message, StatusUpdate

CUSTOMER = "+14155550123"
BUSINESS = "+14155559876"
BOOKED_AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _twilio_event() -> dict[str, Any]:
    """What a Twilio message and its status callback share: SM0001 on SMS, occurring now."""
    return {
        "provider": "twilio",
        "provider_message_id": "SM0001",
        "channel": Channel.SMS,
        "occurred_at": datetime.now(UTC),
        "raw": {},
    }


def message(**changes: Any) -> Message:
    """An inbound Twilio SMS from CUSTOMER to BUSINESS, occurring now."""
    inbound = {"direction": Direction.INBOUND, "sender": CUSTOMER, "recipient": BUSINESS, "body": "hello"}
    return Message(**{**_twilio_event(), **inbound, "event_type": "message.received", **changes})


def status_update(**changes: Any) -> StatusUpdate:
    """A Twilio status callback saying SM0001 was delivered, occurring now."""
    return StatusUpdate(
        **{**_twilio_event(), "event_type": "status_callback", "status": "delivered", **changes}
    )


def calendar_event(**changes: Any) -> CalendarEvent:
    """A confirmed Cal.com booking's first version, made on BOOKED_AT (give it a `start`)."""
    fields: dict[str, Any] = {
        "provider": "calcom",
        "provider_message_id": "bk-1",
        "occurred_at": BOOKED_AT,
        "event_type": "BOOKING_CREATED",
        "raw": {},
        "version": "00001795593600000",
        "status": CalendarStatus.CONFIRMED,
    }
    return CalendarEvent(**{**fields, **changes})
