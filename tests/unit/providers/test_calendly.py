"""Calendly: `t=..,v1=..` over `t.body` with a 3-minute window; invitee.created / invitee.canceled."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from providers.conftest import assert_accepted, body_of, webhook_request
from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid
from switchboard.http_api import request_from_event
from switchboard.models import CalendarStatus
from switchboard.providers import calendly
from switchboard.webhook_request import WebhookRequest
from switchboard_ops.local.secrets import webhook_secrets_document
from switchboard_ops.project import load_event

KEY = "calendly-signing-key-7a"
NOW = 1_795_593_600
OLD_URI = "https://api.calendly.com/scheduled_events/EV1/invitees/INV-OLD"
INVITEE: dict[str, Any] = {
    "event": "invitee.created",
    "created_at": "2026-11-25T08:00:00.000000Z",
    "payload": {
        "uri": "https://api.calendly.com/scheduled_events/EV1/invitees/INV-1",
        "timezone": "Asia/Tokyo",
        "text_reminder_number": "+81 90-1234-5678",
        "updated_at": "2026-11-25T07:59:58.000000Z",
        "old_invitee": None,
        "scheduled_event": {
            "name": "Intro call",
            "start_time": "2026-12-01T01:00:00.000000Z",
            "end_time": "2026-12-01T01:30:00.000000Z",
            "location": {"type": "physical", "location": "Shibuya office"},
        },
    },
}


def sign(body: bytes, timestamp: int, key: str = KEY) -> str:
    digest = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def request(body: dict[str, Any] = INVITEE, header: str | None = None, at: int = NOW) -> WebhookRequest:
    raw = body_of(body)
    return webhook_request("calendly", raw, {calendly.SIGNATURE_HEADER: header or sign(raw, at)})


def invitee(event: str = "invitee.created", **changes: Any) -> dict[str, Any]:
    return {**INVITEE, "event": event, "payload": {**INVITEE["payload"], **changes}}


def test_a_fresh_signed_body_verifies():
    assert_accepted(request(), {"signing_key": KEY}, NOW + 60)


def test_the_module_signs_what_an_independent_hmac_computes():
    body = json.dumps(INVITEE).encode()
    assert calendly.signature_headers("u", body, {"signing_key": KEY}, NOW) == {
        "calendly-webhook-signature": sign(body, NOW)
    }


@pytest.mark.parametrize("age", [-181, 181, 3600])
def test_a_timestamp_outside_three_minutes_is_rejected(age):
    with pytest.raises(SignatureInvalid, match="window"):
        calendly.verify(request(at=NOW - age), {"signing_key": KEY}, NOW)


@pytest.mark.parametrize(
    "header", ["v1=abc", "t=abc,v1=00", f"t={NOW}", "t=1,v1=é", f"t={NOW},v1={'0' * 64}"]
)
def test_malformed_or_wrong_signatures_are_rejected(header):
    with pytest.raises(SignatureInvalid):
        calendly.verify(request(header=header), {"signing_key": KEY}, NOW)


def test_a_signature_over_another_key_is_rejected():
    raw = json.dumps(INVITEE).encode()
    with pytest.raises(SignatureInvalid):
        calendly.verify(request(header=sign(raw, NOW, "other")), {"signing_key": KEY}, NOW)


def test_a_route_without_a_signing_key_rejects_everything():
    with pytest.raises(NotConfigured):
        calendly.verify(request(), {}, NOW)


def test_an_invitee_becomes_a_confirmed_event_in_the_invitees_zone():
    event = calendly.parse(request(), NOW)
    assert event is not None
    assert (event.provider, event.provider_message_id) == ("calendly", "INV-1")
    assert event.status is CalendarStatus.CONFIRMED
    assert event.start == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert (event.attendee_phone, event.attendee_time_zone) == ("+819012345678", "Asia/Tokyo")
    assert (event.title, event.location) == ("Intro call", "Shibuya office")


def test_a_reschedule_is_a_cancel_of_the_old_invitee_and_a_create_naming_it():
    # Given the two webhooks Calendly sends for a reschedule
    cancel = invitee("invitee.canceled", uri=OLD_URI, rescheduled=True, updated_at="2026-11-25T08:00:00Z")
    create = invitee(old_invitee=OLD_URI)
    # When both are parsed
    old, new = calendly.parse(request(cancel), NOW), calendly.parse(request(create), NOW)
    # Then the old invitee is cancelled and the new one replaces it
    assert old and old.provider_message_id == "INV-OLD" and old.status is CalendarStatus.CANCELLED
    assert new and new.replaces == "INV-OLD"


def test_other_events_are_ignored():
    assert calendly.parse(request({**INVITEE, "event": "routing_form_submission.created"}), NOW) is None


@pytest.mark.parametrize(
    "body",
    [invitee(uri=None), invitee(updated_at="soon"), invitee(scheduled_event=[]), {**INVITEE, "payload": 3}],
)
def test_malformed_invitees_are_400s(body):
    with pytest.raises(MalformedPayload):
        calendly.parse(request(body), NOW)


def test_the_sample_event_verifies_with_the_local_secret():
    sample = request_from_event(load_event("ingest/calendly_invitee_created"))
    calendly.verify(sample, webhook_secrets_document()["calendly"], NOW)
    assert calendly.parse(sample, NOW) is not None
