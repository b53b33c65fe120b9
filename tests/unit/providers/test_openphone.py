"""OpenPhone (Quo): both signature schemes against vectors computed here with stdlib hmac/base64, and
both payload envelopes parsed into the canonical model."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest

from providers.conftest import assert_accepted, body_of, parsed, parsed_message, webhook_request
from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid
from switchboard.models import Channel, Direction, Message, StatusUpdate
from switchboard.providers import openphone
from switchboard.webhook_request import WebhookRequest
from switchboard_ops.local.secrets import LOCAL_SECRETS, webhook_secrets_document

URL = "https://hooks.example.com/webhooks/openphone"
NOW = 1795593600  # 2026-11-25T08:00:00Z
SIGNING_KEY = base64.b64encode(b"test-openphone-signing-key-0001").decode()
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"test-openphone-webhook-secret-01").decode()
SECRETS = {"signing_key": SIGNING_KEY, "webhook_secret": WEBHOOK_SECRET}

# The Standard Webhooks specification's published test vector (standard-webhooks / svix libraries).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

MESSAGE: dict[str, Any] = {
    "id": "AC24a8b8321c4f4cf2be110f4250793d51",
    "object": "message",
    "from": "+1 (415) 555-0123",
    "to": "+14155559876",
    "direction": "incoming",
    "text": "Running late, be there at 8:30",
    "status": "received",
    "createdAt": "2026-11-25T07:59:58.412Z",
    "userId": None,
    "phoneNumberId": "PNtoDbDhuz",
    "conversationId": "CN78ba0373683c48fd8fd96bc836c51f79",
    "media": [],
}


def legacy_envelope(event_type: str = "message.received", /, **fields: Any) -> dict[str, Any]:
    return {
        "id": "EVc67ec998b35c41d388af50799aeeba3e",
        "object": "event",
        "apiVersion": "v3",
        "createdAt": "2026-11-25T08:00:00.000Z",
        "type": event_type,
        "data": {"object": {**MESSAGE, **fields}},
    }


def standard_envelope(event_type: str = "message.received", **fields: Any) -> dict[str, Any]:
    resource = {key: value for key, value in {**MESSAGE, **fields}.items() if key != "object"}
    return {
        "id": "EV0a4f6c2e8b1d47f3a9c5e7b2d4f6a8c1",
        "apiVersion": "2026-03-30",
        "createdAt": "2026-11-25T08:00:00.000Z",
        "type": event_type,
        "data": {"resource": resource, "context": {}, "links": {"quo": None}},
    }


BODY = body_of(legacy_envelope())


def legacy_header(body: bytes, timestamp_ms: int, signing_key: str = SIGNING_KEY) -> str:
    """Computed independently of the module: HMAC-SHA256(b64decode(key), b"<ts>." + body), base64."""
    digest = hmac.new(base64.b64decode(signing_key), f"{timestamp_ms}.".encode() + body, hashlib.sha256)
    return f"hmac;1;{timestamp_ms};{base64.b64encode(digest.digest()).decode()}"


def standard_headers(
    body: bytes, timestamp: int, secret: str = WEBHOOK_SECRET, webhook_id: str = "msg_2abcDEF"
) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{base64.b64encode(digest).decode()}",
    }


def legacy_request(
    body: bytes = BODY, *, signed_body: bytes | None = None, at_ms: int = NOW * 1000
) -> WebhookRequest:
    return webhook_request(
        "openphone", body, {"openphone-signature": legacy_header(signed_body or body, at_ms)}
    )


# --- legacy scheme: openphone-signature ---------------------------------------------------------


def test_legacy_signature_over_timestamp_and_raw_body_is_accepted():
    # Given a body signed now with the legacy signing key
    # When it is verified
    assert_accepted(legacy_request(), SECRETS, now=NOW)
    # Then no error is raised


def test_legacy_signature_headers_match_the_independent_computation():
    # Given the legacy scheme computed here with stdlib hmac
    # When the module produces the headers OpenPhone would send
    headers = openphone.signature_headers(URL, BODY, SECRETS, NOW)
    # Then they are the same header, stamped in milliseconds
    assert headers == {"openphone-signature": legacy_header(BODY, NOW * 1000)}


def test_legacy_header_with_several_signatures_is_accepted_when_one_matches():
    # Given a header carrying a stale foreign entry and the valid one, comma-separated
    valid = legacy_header(BODY, NOW * 1000)
    header = f"hmac;1;{NOW * 1000};bm90LXRoZS1yaWdodC1zaWduYXR1cmU=,{valid}"
    # When it is verified
    assert_accepted(webhook_request("openphone", BODY, {"openphone-signature": header}), SECRETS, now=NOW)
    # Then no error is raised


def test_legacy_tampered_body_is_rejected():
    # Given a signature over one body and a different body delivered
    tampered = legacy_request(body_of(legacy_envelope(text="Send me your bank details")), signed_body=BODY)
    # When / Then
    with pytest.raises(SignatureInvalid, match="does not match"):
        openphone.verify(tampered, SECRETS, now=NOW)


def test_legacy_signature_from_another_key_is_rejected():
    # Given a body signed with a key that is not the configured one
    other_key = base64.b64encode(b"someone-elses-key").decode()
    forged = webhook_request(
        "openphone", BODY, {"openphone-signature": legacy_header(BODY, NOW * 1000, other_key)}
    )
    # When / Then
    with pytest.raises(SignatureInvalid):
        openphone.verify(forged, SECRETS, now=NOW)


def test_legacy_missing_header_is_rejected():
    # Given an unsigned request
    # When / Then
    with pytest.raises(SignatureInvalid, match="missing openphone-signature"):
        openphone.verify(webhook_request("openphone", BODY, {}), SECRETS, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        "not-a-signature",
        f"hmac;1;{NOW * 1000}",  # no signature field
        f"sha1;1;{NOW * 1000};abc=",  # unknown scheme
        f"hmac;2;{NOW * 1000};abc=",  # unknown version
        "hmac;1;17955936OO000;abc=",  # timestamp is not digits
        "hmac;1;" + "9" * 5000 + ";abc=",  # absurd timestamp
        f"hmac;1;{NOW * 1000};sïgnature",  # not ASCII
    ],
)
def test_legacy_malformed_header_is_rejected(header):
    # Given a header that is not `hmac;1;<ms>;<base64>`
    # When / Then
    with pytest.raises(SignatureInvalid):
        openphone.verify(
            webhook_request("openphone", BODY, {"openphone-signature": header}), SECRETS, now=NOW
        )


@pytest.mark.parametrize("offset_seconds", [-301, 301], ids=["stale", "future"])
def test_legacy_timestamp_outside_the_window_is_rejected(offset_seconds):
    # Given a correctly signed request stamped more than 300 s away from now
    signed = legacy_request(at_ms=(NOW + offset_seconds) * 1000)
    # When / Then
    with pytest.raises(SignatureInvalid, match="window"):
        openphone.verify(signed, SECRETS, now=NOW)


def test_legacy_timestamp_is_read_as_milliseconds():
    # Given a signature stamped in seconds (as if the unit were misread): it lies in January 1970
    signed = webhook_request("openphone", BODY, {"openphone-signature": legacy_header(BODY, NOW)})
    # When / Then: it is far outside the window
    with pytest.raises(SignatureInvalid, match="window"):
        openphone.verify(signed, SECRETS, now=NOW)


def test_legacy_without_signing_key_fails_closed():
    # Given a route with no secrets configured
    # When / Then
    with pytest.raises(NotConfigured):
        openphone.verify(legacy_request(), {}, now=NOW)


def test_legacy_signing_key_that_is_not_base64_fails_closed():
    # Given a misconfigured signing key
    # When / Then
    with pytest.raises(NotConfigured, match="base64"):
        openphone.verify(legacy_request(), {"signing_key": "not base64!"}, now=NOW)


# --- 2026-03-30 scheme: Standard Webhooks headers ------------------------------------------------


def test_standard_webhooks_published_vector_is_accepted():
    # Given the Standard Webhooks specification's own test vector
    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    # When it is verified at the moment it was signed
    assert_accepted(
        webhook_request("openphone", SPEC_BODY, headers), {"webhook_secret": SPEC_SECRET}, now=SPEC_TIMESTAMP
    )
    # Then no error is raised


def test_standard_signature_headers_reproduce_the_published_vector():
    # Given the published vector's secret, id and timestamp
    # When the module signs its body
    headers = openphone.standard_signature_headers(SPEC_BODY, SPEC_SECRET, SPEC_TIMESTAMP, webhook_id=SPEC_ID)
    # Then the signature is the published one
    assert headers["webhook-signature"] == SPEC_SIGNATURE


def test_standard_signature_list_is_accepted_when_one_v1_entry_matches():
    # Given a rotated secret's stale entry, an unknown version, then the valid entry
    headers = standard_headers(BODY, NOW)
    valid = headers["webhook-signature"]
    headers["webhook-signature"] = f"v1,c3RhbGUtc2lnbmF0dXJl v2,{valid[3:]} {valid}"
    # When / Then
    assert_accepted(webhook_request("openphone", BODY, headers), SECRETS, now=NOW)


def test_standard_scheme_is_chosen_for_a_2026_03_30_body():
    # Given a data.resource envelope (a webhook created through the 2026-03-30 API)
    body = body_of(standard_envelope())
    # When the module produces OpenPhone's headers
    headers = openphone.signature_headers(URL, body, SECRETS, NOW)
    # Then they are Standard Webhooks headers that verify with webhook_secret
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    openphone.verify(webhook_request("openphone", body, headers), {"webhook_secret": WEBHOOK_SECRET}, now=NOW)


def test_standard_tampered_body_is_rejected():
    # Given headers signed over another body
    headers = standard_headers(BODY, NOW)
    # When / Then
    with pytest.raises(SignatureInvalid, match="does not match"):
        openphone.verify(webhook_request("openphone", BODY + b" ", headers), SECRETS, now=NOW)


def test_standard_signature_from_another_secret_is_rejected():
    # Given headers signed with a different whsec_ secret
    headers = standard_headers(BODY, NOW, secret=SPEC_SECRET)
    # When / Then
    with pytest.raises(SignatureInvalid):
        openphone.verify(webhook_request("openphone", BODY, headers), SECRETS, now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_missing_header_is_rejected(missing):
    # Given a Standard Webhooks request missing one of its three headers
    headers = standard_headers(BODY, NOW)
    del headers[missing]
    # When / Then
    with pytest.raises(SignatureInvalid, match="missing"):
        openphone.verify(webhook_request("openphone", BODY, headers), SECRETS, now=NOW)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("webhook-timestamp", "2026-11-25T08:00:00Z"),
        ("webhook-timestamp", "-1795593600"),
        ("webhook-signature", "v1:abc"),
        ("webhook-signature", "v1,sïg"),
    ],
)
def test_standard_malformed_header_is_rejected(name, value):
    # Given a Standard Webhooks request with one header in the wrong shape
    headers = {**standard_headers(BODY, NOW), name: value}
    # When / Then
    with pytest.raises(SignatureInvalid):
        openphone.verify(webhook_request("openphone", BODY, headers), SECRETS, now=NOW)


@pytest.mark.parametrize("offset_seconds", [-301, 301], ids=["stale", "future"])
def test_standard_timestamp_outside_the_window_is_rejected(offset_seconds):
    # Given a correctly signed request whose webhook-timestamp is more than 300 s away
    headers = standard_headers(BODY, NOW + offset_seconds)
    # When / Then
    with pytest.raises(SignatureInvalid, match="window"):
        openphone.verify(webhook_request("openphone", BODY, headers), SECRETS, now=NOW)


def test_standard_headers_with_only_a_legacy_key_fail_closed():
    # Given a Standard Webhooks request but only the legacy signing_key configured
    # When / Then: it is not silently checked with the other scheme
    with pytest.raises(NotConfigured, match="webhook_secret"):
        openphone.verify(
            webhook_request("openphone", BODY, standard_headers(BODY, NOW)),
            {"signing_key": SIGNING_KEY},
            now=NOW,
        )


def test_standard_headers_decide_even_beside_a_valid_legacy_signature():
    # Given a valid legacy signature plus a forged webhook-signature
    headers = {
        "openphone-signature": legacy_header(BODY, NOW * 1000),
        **standard_headers(BODY, NOW, secret=SPEC_SECRET),
    }
    # When / Then: the Standard Webhooks headers are the ones checked
    with pytest.raises(SignatureInvalid, match="webhook-signature"):
        openphone.verify(webhook_request("openphone", BODY, headers), SECRETS, now=NOW)


def test_local_secrets_sign_what_the_local_stack_verifies():
    # Given the documented local secrets: the provider's side and Switchboard's side
    for body in (BODY, body_of(standard_envelope())):
        headers = openphone.signature_headers(URL, body, LOCAL_SECRETS["openphone"], NOW)
        # When / Then
        assert_accepted(
            webhook_request("openphone", body, headers), webhook_secrets_document()["openphone"], now=NOW
        )


# --- parsing -------------------------------------------------------------------------------------


def test_legacy_message_received_becomes_an_inbound_sms():
    # Given a legacy message.received envelope
    payload = legacy_envelope()
    # When it is parsed
    event = parsed("openphone", payload, NOW)
    # Then it is the message (not the event) with E.164 numbers and OpenPhone's ids
    assert isinstance(event, Message)
    assert event.provider == "openphone"
    assert event.provider_message_id == "AC24a8b8321c4f4cf2be110f4250793d51"
    assert (event.direction, event.channel) == (Direction.INBOUND, Channel.SMS)
    assert (event.sender, event.recipient) == ("+14155550123", "+14155559876")
    assert event.body == "Running late, be there at 8:30"
    assert event.status == "received"
    assert (event.thread_id, event.account_id) == ("CN78ba0373683c48fd8fd96bc836c51f79", "PNtoDbDhuz")
    assert event.occurred_at == datetime(2026, 11, 25, 7, 59, 58, 412000, tzinfo=UTC)
    assert event.event_type == "message.received"
    assert event.raw == payload


def test_2026_03_30_message_received_with_media_becomes_an_inbound_mms():
    # Given the new envelope: data.resource, `to` as a list, one media item
    media = [{"url": "https://m.openph.one/static/abc.jpg", "type": "image/jpeg"}]
    payload = standard_envelope(to=["+14155559876"], media=media)
    # When it is parsed
    event = parsed("openphone", payload, NOW)
    # Then it maps like the legacy one, as an MMS carrying the media
    assert isinstance(event, Message)
    assert event.provider_message_id == "AC24a8b8321c4f4cf2be110f4250793d51"
    assert event.channel is Channel.MMS
    assert event.recipient == "+14155559876"
    assert [(item.url, item.content_type) for item in event.media] == [(media[0]["url"], "image/jpeg")]
    assert event.raw == payload


def test_message_delivered_becomes_a_delivered_status_for_that_message():
    # Given a message.delivered event for an outgoing message
    payload = legacy_envelope(
        "message.delivered",
        direction="outgoing",
        status="delivered",
        **{"from": "+14155559876", "to": "+14155550123"},
    )
    # When it is parsed
    event = parsed("openphone", payload, NOW)
    # Then it is a status update keyed by the message id
    assert isinstance(event, StatusUpdate)
    assert (event.provider_message_id, event.status) == ("AC24a8b8321c4f4cf2be110f4250793d51", "delivered")
    assert (event.sender, event.recipient) == ("+14155559876", "+14155550123")


def test_message_failed_becomes_a_failed_status():
    # Given a 2026-03-30 message.failed event
    # When it is parsed
    event = parsed("openphone", standard_envelope("message.failed", direction="outgoing"), NOW)
    # Then it is a failed status update
    assert isinstance(event, StatusUpdate)
    assert event.status == "failed"


def test_an_outgoing_message_is_outbound():
    # Given a message event whose message went out from the OpenPhone number
    # When it is parsed
    event = parsed("openphone", legacy_envelope(direction="outgoing"), NOW)
    # Then its direction is outbound
    assert isinstance(event, Message)
    assert event.direction is Direction.OUTBOUND


def test_body_field_is_read_when_text_is_absent():
    # Given a message carrying `body` instead of `text`
    payload = legacy_envelope(body="Hello from body")
    del payload["data"]["object"]["text"]
    # When / Then
    assert parsed_message("openphone", payload, NOW).body == "Hello from body"


def test_envelope_created_at_is_used_when_the_message_has_none():
    # Given a message without its own createdAt
    payload = legacy_envelope()
    del payload["data"]["object"]["createdAt"]
    # When / Then: the event's createdAt stands in
    assert parsed_message("openphone", payload, NOW).occurred_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "event_type", ["call.completed", "call.ringing", "contact.updated", "call.summary.completed", "other"]
)
def test_event_types_we_do_not_handle_are_ignored(event_type):
    # Given a call or contact event (its data is not a message)
    payload = {"id": "EV1", "object": "event", "type": event_type, "data": {"object": {"object": "call"}}}
    # When / Then
    assert parsed("openphone", payload, NOW) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "message.received"},  # no data
        {"type": "message.received", "data": {"object": "AC123"}},  # message is not an object
        {"type": "message.received", "data": []},
        {"type": ["message.received"], "data": {}},  # type is not a string
        legacy_envelope(id=None),  # no message id
        legacy_envelope(**{"from": None}),  # no sender
        legacy_envelope(**{"from": "not a number"}),
        legacy_envelope(to=[42]),
        legacy_envelope(direction="sideways"),
        legacy_envelope(createdAt="yesterday"),
        legacy_envelope(media="https://m.openph.one/a.jpg"),
        legacy_envelope(media=[{"type": "image/jpeg"}]),
        legacy_envelope(text={"rich": "text"}),
        legacy_envelope(id="AC" + "0" * 600),  # longer than any provider id
    ],
)
def test_missing_or_mistyped_fields_are_malformed(payload):
    # Given a message event without a required field, or with one of the wrong type
    # When / Then
    with pytest.raises(MalformedPayload):
        parsed("openphone", payload, NOW)


@pytest.mark.parametrize("body", [b"not json", b"", b"[1, 2]", b"\xff\xfe", b'"message.received"'])
def test_garbage_bodies_are_malformed(body):
    # Given a body that is not a JSON object
    # When / Then
    with pytest.raises(MalformedPayload):
        parsed("openphone", body, NOW)


def test_a_group_message_with_comma_joined_to_keeps_the_workspace_line_and_the_other_members():
    # Given the captured group-message sample: `to` is one comma-joined string of numbers
    from switchboard_ops.local.samples import load_sample

    # When it is parsed
    event = parsed("openphone", load_sample("openphone_group_message_received").body, NOW)

    # Then the first number (the workspace's line) is the recipient and the others are participants
    assert isinstance(event, Message)
    assert event.provider_message_id == "AC3e9a7c5b1d2f4068a9b7c5d3e1f2a4b6"
    assert (event.sender, event.recipient) == ("+14155550123", "+14155559876")
    assert event.participants == ("+14155550177", "+14155550188")


def test_a_group_with_a_number_that_is_no_number_is_still_a_400():
    with pytest.raises(MalformedPayload):
        parsed("openphone", legacy_envelope(to="+14155559876,not-a-number"), NOW)
