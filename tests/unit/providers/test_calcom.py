"""Cal.com: X-Cal-Signature-256 (hex HMAC-SHA256 of the raw body) and the booking triggers."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from providers.conftest import assert_accepted, body_of, webhook_request
from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid
from switchboard.http_api import request_from_event
from switchboard.models import CalendarEvent, CalendarStatus
from switchboard.providers import calcom
from switchboard.webhook_request import WebhookRequest
from switchboard_ops.local.secrets import webhook_secrets_document
from switchboard_ops.project import load_event

SECRET = "whk-calcom-4b1d"
NOW = 1_795_593_600
BOOKING: dict[str, Any] = {
    "triggerEvent": "BOOKING_CREATED",
    "createdAt": "2026-11-25T07:55:00.000Z",
    "payload": {
        "uid": "bk-9f3c",
        "title": "Check-up",
        "startTime": "2026-12-01T15:00:00Z",
        "endTime": "2026-12-01T15:30:00Z",
        "location": "Room 2",
        "status": "ACCEPTED",
        "organizer": {"timeZone": "America/New_York"},
        "attendees": [{"name": "Maya", "timeZone": "America/Chicago"}],
        "smsReminderNumber": "+1 (415) 555-0123",
    },
}


def request(body: dict[str, Any] | bytes = BOOKING, signature: str | None = None) -> WebhookRequest:
    raw = body if isinstance(body, bytes) else body_of(body)
    # Known answer computed here with the standard library, independently of the module
    signature = signature or hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return webhook_request("calcom", raw, {calcom.SIGNATURE_HEADER: signature})


def booking(**changes: Any) -> dict[str, Any]:
    trigger = changes.pop("triggerEvent", BOOKING["triggerEvent"])
    return {**BOOKING, "triggerEvent": trigger, "payload": {**BOOKING["payload"], **changes}}


def test_a_body_signed_with_the_secret_verifies():
    assert_accepted(request(), {"secret": SECRET}, NOW)


def test_the_module_signs_what_verify_accepts():
    body = json.dumps(BOOKING).encode()
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert calcom.signature_headers("u", body, {"secret": SECRET}, NOW) == {"x-cal-signature-256": expected}


@pytest.mark.parametrize("signature", ["no-secret-provided", "0" * 64, "é"])
def test_a_wrong_signature_is_rejected(signature):
    with pytest.raises(SignatureInvalid):
        calcom.verify(request(signature=signature), {"secret": SECRET}, NOW)


def test_a_changed_body_is_rejected():
    signed = request()
    tampered = replace(signed, body=signed.body.replace(b"15:00", b"16:00"))
    with pytest.raises(SignatureInvalid):
        calcom.verify(tampered, {"secret": SECRET}, NOW)


def test_a_route_without_a_secret_rejects_everything():
    with pytest.raises(NotConfigured):
        calcom.verify(request(), {}, NOW)


def test_a_created_booking_becomes_a_confirmed_calendar_event():
    # When a BOOKING_CREATED is parsed
    event = calcom.parse(request(), NOW)
    # Then its facts are canonical: aware start, E.164 phone, zones, a sortable version
    assert isinstance(event, CalendarEvent)
    assert (event.provider, event.provider_message_id) == ("calcom", "bk-9f3c")
    assert event.status is CalendarStatus.CONFIRMED
    assert event.start == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert event.attendee_phone == "+14155550123"
    assert (event.time_zone, event.attendee_time_zone) == ("America/New_York", "America/Chicago")
    assert event.version == f"{1_795_593_300_000:020d}"
    assert (event.title, event.location, event.replaces) == ("Check-up", "Room 2", None)


def test_a_later_webhook_sorts_as_a_newer_version():
    older = calcom.parse(request(), NOW)
    newer = calcom.parse(request({**BOOKING, "createdAt": "2026-11-25T08:00:00Z"}), NOW)
    assert older and newer and newer.version > older.version


def test_a_cancelled_booking_is_cancelled():
    event = calcom.parse(request(booking(triggerEvent="BOOKING_CANCELLED", status="CANCELLED")), NOW)
    assert event and event.status is CalendarStatus.CANCELLED


def test_a_reschedule_names_the_booking_it_replaces():
    body = booking(triggerEvent="BOOKING_RESCHEDULED", uid="bk-new", rescheduleUid="bk-9f3c")
    event = calcom.parse(request(body), NOW)
    assert event and (event.provider_message_id, event.replaces) == ("bk-new", "bk-9f3c")


def test_a_booking_without_a_phone_number_is_still_an_event():
    event = calcom.parse(request(booking(smsReminderNumber=None)), NOW)
    assert event is not None and event.attendee_phone is None


def test_an_unusable_phone_number_is_kept_out_of_the_event_not_refused():
    event = calcom.parse(request(booking(smsReminderNumber="call me")), NOW)
    assert event is not None and event.attendee_phone is None


def test_other_triggers_are_ignored():
    assert calcom.parse(request({**BOOKING, "triggerEvent": "MEETING_ENDED"}), NOW) is None


@pytest.mark.parametrize(
    "body",
    [
        booking(uid=None),
        booking(startTime="2026-12-01T15:00:00"),  # no offset: would be read in the wrong zone
        booking(startTime="tomorrow"),
        booking(status="WHATEVER"),
        booking(attendees="maya"),
        {**BOOKING, "payload": "nope"},
        {**BOOKING, "createdAt": None},
    ],
)
def test_malformed_bookings_are_400s(body):
    with pytest.raises(MalformedPayload):
        calcom.parse(request(body), NOW)


def test_the_sample_event_verifies_with_the_local_secret():
    sample = request_from_event(load_event("ingest/calcom_booking_created"))
    calcom.verify(sample, webhook_secrets_document()["calcom"], NOW)
    assert calcom.parse(sample, NOW) is not None
