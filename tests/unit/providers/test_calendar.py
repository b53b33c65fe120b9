"""Switchboard's own calendar event: Standard Webhooks signing and the JSON event schema."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, date, datetime
from typing import Any

import pytest

from providers.conftest import assert_accepted, body_of, webhook_request
from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid
from switchboard.http_api import request_from_event
from switchboard.models import CalendarStatus
from switchboard.providers import calendar
from switchboard.webhook_request import WebhookRequest
from switchboard_ops.local.secrets import webhook_secrets_document
from switchboard_ops.project import load_event

KEY = b"calendar-test-key-0001"
SECRETS = {"webhook_secret": "whsec_" + base64.b64encode(KEY).decode()}
NOW = 1_795_593_600
EVENT: dict[str, Any] = {
    "calendar": "clinic",
    "id": "evt-1",
    "version": 3,
    "status": "confirmed",
    "title": "Physio",
    "location": "Room 4",
    "start": "2026-12-01T09:00:00-05:00",
    "end": "2026-12-01T09:45:00-05:00",
    "time_zone": "America/New_York",
    "attendee": {"phone": "+14155550123", "time_zone": "America/Los_Angeles"},
}


def request(body: dict[str, Any] = EVENT, at: int = NOW, key: bytes = KEY) -> WebhookRequest:
    raw = body_of(body)
    # Standard Webhooks signature computed here, independently of the module
    signature = base64.b64encode(
        hmac.new(key, f"msg_1.{at}.".encode() + raw, hashlib.sha256).digest()
    ).decode()
    return webhook_request(
        "calendar", raw, webhook_id="msg_1", webhook_timestamp=str(at), webhook_signature=f"v1,{signature}"
    )


def test_a_standard_webhooks_signature_verifies():
    assert_accepted(request(), SECRETS, NOW)


def test_another_key_stale_time_and_no_secret_are_rejected():
    with pytest.raises(SignatureInvalid):
        calendar.verify(request(key=b"other"), SECRETS, NOW)
    with pytest.raises(SignatureInvalid, match="window"):
        calendar.verify(request(at=NOW - 301), SECRETS, NOW)
    with pytest.raises(NotConfigured):
        calendar.verify(request(), {}, NOW)


def test_an_event_is_parsed_with_its_calendar_in_the_id_and_a_numeric_version():
    event = calendar.parse(request(), NOW)
    assert event is not None
    assert event.provider_message_id == "clinic:evt-1"
    assert event.version == "00000000000000000003"
    assert event.start == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert (event.time_zone, event.attendee_time_zone) == ("America/New_York", "America/Los_Angeles")


def test_version_10_sorts_after_version_9():
    nine = calendar.parse(request({**EVENT, "version": 9}), NOW)
    ten = calendar.parse(request({**EVENT, "version": 10}), NOW)
    assert nine and ten and ten.version > nine.version


def test_updated_at_serves_as_the_version():
    body = {key: value for key, value in EVENT.items() if key != "version"} | {
        "updated_at": "2026-11-25T08:00:00Z"
    }
    event = calendar.parse(request(body), NOW)
    assert event and event.version == f"{1_795_593_600_000:020d}"


def test_an_all_day_event_has_a_date_and_no_start():
    body = {**EVENT, "start": None, "end": None, "all_day": "2026-12-24"}
    event = calendar.parse(request(body), NOW)
    assert event and event.all_day == date(2026, 12, 24) and event.start is None


def test_a_cancellation_needs_only_ids_and_version():
    event = calendar.parse(request({"calendar": "c", "id": "e", "version": 4, "status": "cancelled"}), NOW)
    assert event and event.status is CalendarStatus.CANCELLED


@pytest.mark.parametrize(
    "body",
    [
        {**EVENT, "id": None},
        {**EVENT, "status": "maybe"},
        {**EVENT, "version": -1},
        {**EVENT, "version": "3"},
        {key: value for key, value in EVENT.items() if key != "version"},
        {**EVENT, "time_zone": "Mars/Base"},
        {**EVENT, "start": None},
        {**EVENT, "all_day": "24/12/2026"},
        {**EVENT, "end": "2026-12-01T08:00:00-05:00"},
    ],
)
def test_malformed_events_are_400s(body):
    with pytest.raises(MalformedPayload):
        calendar.parse(request(body), NOW)


def test_the_sample_event_verifies_with_the_local_secret():
    sample = request_from_event(load_event("ingest/calendar_event_confirmed"))
    calendar.verify(sample, webhook_secrets_document()["calendar"], NOW)
    assert calendar.parse(sample, NOW) is not None
