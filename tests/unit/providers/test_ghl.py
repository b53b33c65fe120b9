"""GoHighLevel: Ed25519 (x-ghl-signature) and legacy RSA (x-wh-signature) signatures made here with
cryptography, the body timestamp window, and InboundMessage / OutboundMessage parsing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from providers.conftest import assert_accepted, body_of, parsed, parsed_message, webhook_request
from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid
from switchboard.models import Channel, Direction, Message
from switchboard.providers import ghl
from switchboard_ops.local.secrets import LOCAL_SECRETS, webhook_secrets_document

URL = "https://hooks.example.com/webhooks/ghl"
NOW = 1795593600  # 2026-11-25T08:00:00Z
INBOUND = {
    "type": "InboundMessage",
    "locationId": "l1C08ntBrFjLS0elLIYU",
    "attachments": [],
    "body": "This is a test message",
    "contactId": "cI08i1Bls3iTB9bKgFJh",
    "contentType": "text/plain",
    "conversationId": "fcanlLgpbQgQhderivVs",
    "dateAdded": "2026-11-25T07:59:59.750Z",
    "direction": "inbound",
    "messageType": "SMS",
    "messageId": "tKq4Wz9hB2mXc7RfLp3e",
    "status": "delivered",
    "from": "+1 415-555-0123",
    "to": "+14155559876",
    "messageTypeId": 2,
    "messageTypeString": "TYPE_SMS",
    "timestamp": "2026-11-25T08:00:00.000Z",
    "webhookId": "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
}


BODY = body_of(INBOUND)


def public_pem(private_key: Any) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ed25519_signature(key: ed25519.Ed25519PrivateKey, body: bytes) -> str:
    return base64.b64encode(key.sign(body)).decode()


def rsa_signature(key: rsa.RSAPrivateKey, body: bytes) -> str:
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


# --- Ed25519: x-ghl-signature --------------------------------------------------------------------


def test_ed25519_signature_over_the_raw_body_is_accepted(ed25519_key):
    # Given a body signed with an Ed25519 key whose public half is configured
    signed = webhook_request("ghl", BODY, {"x-ghl-signature": ed25519_signature(ed25519_key, BODY)})
    # When / Then
    assert_accepted(signed, {"ed25519_public_key_pem": public_pem(ed25519_key)}, now=NOW)


def test_local_key_signature_headers_match_an_independent_signature():
    # Given the documented local key pair (Ed25519 signatures are deterministic)
    private = serialization.load_pem_private_key(
        LOCAL_SECRETS["ghl"]["ed25519_private_key_pem"].encode(), password=None
    )
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    # When the module produces the headers GHL would send
    headers = ghl.signature_headers(URL, BODY, LOCAL_SECRETS["ghl"], NOW)
    # Then they carry exactly the signature computed here, which the local stack accepts
    assert headers == {"x-ghl-signature": ed25519_signature(private, BODY)}
    ghl.verify(webhook_request("ghl", BODY, headers), webhook_secrets_document()["ghl"], now=NOW)


def test_published_ghl_key_is_the_documented_ed25519_key():
    # Given the constant the README points operators at
    key = serialization.load_pem_public_key(ghl.GHL_PUBLISHED_ED25519_PUBLIC_KEY_PEM.encode())
    # When / Then: it is an Ed25519 key with the SPKI bytes GHL publishes
    assert isinstance(key, ed25519.Ed25519PublicKey)
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert base64.b64encode(spki).decode() == "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg="


def test_ed25519_tampered_body_is_rejected(ed25519_key):
    # Given a signature over the original body and a changed body delivered
    tampered = webhook_request(
        "ghl",
        BODY.replace(b"test message", b"fake message"),
        {"x-ghl-signature": ed25519_signature(ed25519_key, BODY)},
    )
    # When / Then
    with pytest.raises(SignatureInvalid, match="does not match"):
        ghl.verify(tampered, {"ed25519_public_key_pem": public_pem(ed25519_key)}, now=NOW)


def test_ed25519_signature_from_another_key_is_rejected(ed25519_key):
    # Given a body signed by a key that is not the configured one
    forged = webhook_request(
        "ghl", BODY, {"x-ghl-signature": ed25519_signature(ed25519.Ed25519PrivateKey.generate(), BODY)}
    )
    # When / Then
    with pytest.raises(SignatureInvalid):
        ghl.verify(forged, {"ed25519_public_key_pem": public_pem(ed25519_key)}, now=NOW)


def test_missing_signature_header_is_rejected(ed25519_key):
    # Given an unsigned request
    # When / Then
    with pytest.raises(SignatureInvalid, match="missing x-ghl-signature"):
        ghl.verify(
            webhook_request("ghl", BODY, {}), {"ed25519_public_key_pem": public_pem(ed25519_key)}, now=NOW
        )


@pytest.mark.parametrize(
    "header",
    [
        "",
        "not base64!",
        base64.b64encode(b"\x00" * 63).decode(),  # one byte short of an Ed25519 signature
        base64.b64encode(b"\x00" * 65).decode(),
        "sïgnature",
    ],
)
def test_malformed_ed25519_header_is_rejected(ed25519_key, header):
    # Given an x-ghl-signature that is not base64 of 64 bytes
    # When / Then
    with pytest.raises(SignatureInvalid):
        ghl.verify(
            webhook_request("ghl", BODY, {"x-ghl-signature": header}),
            {"ed25519_public_key_pem": public_pem(ed25519_key)},
            now=NOW,
        )


@pytest.mark.parametrize("offset_seconds", [-301, 301], ids=["stale", "future"])
def test_body_timestamp_outside_the_window_is_rejected(ed25519_key, offset_seconds):
    # Given a correctly signed body whose `timestamp` is more than 300 s away from now
    # When / Then
    signed = webhook_request("ghl", BODY, {"x-ghl-signature": ed25519_signature(ed25519_key, BODY)})
    with pytest.raises(SignatureInvalid, match="window"):
        ghl.verify(signed, {"ed25519_public_key_pem": public_pem(ed25519_key)}, now=NOW + offset_seconds)


def test_body_without_timestamp_is_checked_by_signature_alone(ed25519_key):
    # Given a signed body that carries no `timestamp` (GHL's documented samples have none)
    body = body_of({key: value for key, value in INBOUND.items() if key != "timestamp"})
    signed = webhook_request("ghl", body, {"x-ghl-signature": ed25519_signature(ed25519_key, body)})
    # When / Then: accepted whatever the clock says
    assert_accepted(signed, {"ed25519_public_key_pem": public_pem(ed25519_key)}, now=0)


def test_signed_body_with_an_unreadable_timestamp_is_malformed(ed25519_key):
    # Given a correctly signed body whose timestamp is not a time
    body = body_of({**INBOUND, "timestamp": "soon"})
    signed = webhook_request("ghl", body, {"x-ghl-signature": ed25519_signature(ed25519_key, body)})
    # When / Then
    with pytest.raises(MalformedPayload):
        ghl.verify(signed, {"ed25519_public_key_pem": public_pem(ed25519_key)}, now=NOW)


def test_without_any_key_configured_fails_closed(ed25519_key):
    # Given a route with no secrets configured
    # When / Then
    signed = webhook_request("ghl", BODY, {"x-ghl-signature": ed25519_signature(ed25519_key, BODY)})
    with pytest.raises(NotConfigured):
        ghl.verify(signed, {}, now=NOW)


def test_a_key_that_is_not_pem_fails_closed(ed25519_key):
    # Given a misconfigured public key
    signed = webhook_request("ghl", BODY, {"x-ghl-signature": ed25519_signature(ed25519_key, BODY)})
    # When / Then
    with pytest.raises(NotConfigured, match="PEM"):
        ghl.verify(signed, {"ed25519_public_key_pem": "MCowBQYDK2VwAyEA"}, now=NOW)


def test_an_rsa_key_in_the_ed25519_slot_fails_closed(ed25519_key, rsa_key):
    # Given an RSA public key configured as the Ed25519 key
    signed = webhook_request("ghl", BODY, {"x-ghl-signature": ed25519_signature(ed25519_key, BODY)})
    # When / Then
    with pytest.raises(NotConfigured, match="Ed25519"):
        ghl.verify(signed, {"ed25519_public_key_pem": public_pem(rsa_key)}, now=NOW)


# --- legacy RSA: x-wh-signature ------------------------------------------------------------------


def test_rsa_signature_is_accepted_as_the_fallback(rsa_key):
    # Given only the legacy RSA key configured and an x-wh-signature
    signed = webhook_request("ghl", BODY, {"x-wh-signature": rsa_signature(rsa_key, BODY)})
    # When / Then
    assert_accepted(signed, {"rsa_public_key_pem": public_pem(rsa_key)}, now=NOW)


def test_rsa_fallback_is_used_when_only_the_legacy_header_arrives(ed25519_key, rsa_key):
    # Given both keys configured and a delivery carrying only x-wh-signature
    signed = webhook_request("ghl", BODY, {"x-wh-signature": rsa_signature(rsa_key, BODY)})
    both = {"ed25519_public_key_pem": public_pem(ed25519_key), "rsa_public_key_pem": public_pem(rsa_key)}
    # When / Then
    assert_accepted(signed, both, now=NOW)


def test_rsa_tampered_body_is_rejected(rsa_key):
    # Given an RSA signature over another body
    tampered = webhook_request("ghl", BODY + b" ", {"x-wh-signature": rsa_signature(rsa_key, BODY)})
    # When / Then
    with pytest.raises(SignatureInvalid, match="x-wh-signature does not match"):
        ghl.verify(tampered, {"rsa_public_key_pem": public_pem(rsa_key)}, now=NOW)


@pytest.mark.parametrize("header", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_malformed_rsa_header_is_rejected(rsa_key, header):
    # Given an x-wh-signature that cannot be an RSA-2048 signature
    # When / Then
    with pytest.raises(SignatureInvalid):
        ghl.verify(
            webhook_request("ghl", BODY, {"x-wh-signature": header}),
            {"rsa_public_key_pem": public_pem(rsa_key)},
            now=NOW,
        )


def test_a_failing_ed25519_signature_is_not_rescued_by_rsa(ed25519_key, rsa_key):
    # Given both keys configured, a bad x-ghl-signature and a valid x-wh-signature
    headers = {
        "x-ghl-signature": ed25519_signature(ed25519.Ed25519PrivateKey.generate(), BODY),
        "x-wh-signature": rsa_signature(rsa_key, BODY),
    }
    both = {"ed25519_public_key_pem": public_pem(ed25519_key), "rsa_public_key_pem": public_pem(rsa_key)}
    # When / Then: Ed25519 decides
    with pytest.raises(SignatureInvalid, match="x-ghl-signature"):
        ghl.verify(webhook_request("ghl", BODY, headers), both, now=NOW)


def test_rsa_header_without_an_rsa_key_is_rejected(ed25519_key, rsa_key):
    # Given only the Ed25519 key configured and a delivery signed only with RSA
    signed = webhook_request("ghl", BODY, {"x-wh-signature": rsa_signature(rsa_key, BODY)})
    # When / Then
    with pytest.raises(SignatureInvalid, match="missing"):
        ghl.verify(signed, {"ed25519_public_key_pem": public_pem(ed25519_key)}, now=NOW)


# --- parsing -------------------------------------------------------------------------------------


def test_inbound_sms_becomes_an_inbound_message():
    # Given an InboundMessage webhook for an SMS
    # When it is parsed
    event = parsed("ghl", INBOUND, NOW)
    # Then it carries GHL's message id, E.164 numbers, and the conversation and location
    assert isinstance(event, Message)
    assert event.provider == "ghl"
    assert event.provider_message_id == "tKq4Wz9hB2mXc7RfLp3e"
    assert (event.direction, event.channel) == (Direction.INBOUND, Channel.SMS)
    assert (event.sender, event.recipient) == ("+14155550123", "+14155559876")
    assert event.body == "This is a test message"
    assert event.status == "delivered"
    assert (event.thread_id, event.account_id) == ("fcanlLgpbQgQhderivVs", "l1C08ntBrFjLS0elLIYU")
    assert event.occurred_at == datetime(2026, 11, 25, 7, 59, 59, 750000, tzinfo=UTC)
    assert event.event_type == "InboundMessage"
    assert event.raw == INBOUND


def test_outbound_sms_becomes_an_outbound_message():
    # Given an OutboundMessage webhook sent from the business number
    payload = {
        **INBOUND,
        "type": "OutboundMessage",
        "direction": "outbound",
        "source": "app",
        "from": "+14155559876",
        "to": "+14155550123",
    }
    # When it is parsed
    event = parsed("ghl", payload, NOW)
    # Then it is outbound, from the business number to the contact
    assert isinstance(event, Message)
    assert event.direction is Direction.OUTBOUND
    assert (event.sender, event.recipient) == ("+14155559876", "+14155550123")


def test_direction_comes_from_the_type_when_the_field_is_absent():
    # Given an OutboundMessage without a direction field
    payload = {key: value for key, value in INBOUND.items() if key != "direction"} | {
        "type": "OutboundMessage"
    }
    # When / Then
    assert parsed_message("ghl", payload, NOW).direction is Direction.OUTBOUND


@pytest.mark.parametrize(
    ("message_type", "channel"),
    [
        ("SMS", Channel.SMS),
        ("Email", Channel.EMAIL),
        ("WhatsApp", Channel.WHATSAPP),
        ("CALL", Channel.CALL),
        ("FB", Channel.OTHER),
        ("Live Chat", Channel.OTHER),
    ],
)
def test_message_type_maps_to_a_channel(message_type, channel):
    # Given a message of a given GHL messageType
    payload = {**INBOUND, "messageType": message_type}
    if channel is Channel.EMAIL:
        payload |= {"from": "pat@example.com", "to": "desk@clinic.example"}
    # When / Then
    assert parsed_message("ghl", payload, NOW).channel is channel


def test_email_addresses_are_kept_as_sent():
    # Given an inbound e-mail
    payload = {**INBOUND, "messageType": "Email", "from": "pat@example.com", "to": "desk@clinic.example"}
    # When it is parsed
    event = parsed_message("ghl", payload, NOW)
    # Then sender and recipient are the addresses, not phone numbers
    assert (event.sender, event.recipient) == ("pat@example.com", "desk@clinic.example")


def test_channels_without_addresses_fall_back_to_the_contact_and_location():
    # Given an inbound Facebook message with no from/to
    payload = {key: value for key, value in INBOUND.items() if key not in ("from", "to")} | {
        "messageType": "FB"
    }
    # When it is parsed
    event = parsed_message("ghl", payload, NOW)
    # Then the contact sent it to the location
    assert (event.sender, event.recipient) == ("cI08i1Bls3iTB9bKgFJh", "l1C08ntBrFjLS0elLIYU")


def test_attachments_become_media():
    # Given a message with two attachment URLs
    urls = ["https://storage.googleapis.com/msgsndr/a.jpg", "https://storage.googleapis.com/msgsndr/b.pdf"]
    # When / Then
    assert [item.url for item in parsed_message("ghl", {**INBOUND, "attachments": urls}, NOW).media] == urls


@pytest.mark.parametrize(
    "event_type", ["ContactCreate", "AppointmentCreate", "ProviderOutboundMessage", "Unknown"]
)
def test_webhook_types_we_do_not_handle_are_ignored(event_type):
    # Given a non-message webhook type
    # When / Then
    assert parsed("ghl", {"type": event_type, "locationId": "l1C08ntBrFjLS0elLIYU"}, NOW) is None


@pytest.mark.parametrize(
    "payload",
    [
        {key: value for key, value in INBOUND.items() if key != "messageId"},  # no provider id to key on
        {**INBOUND, "messageId": ""},
        {**INBOUND, "type": {"name": "InboundMessage"}},
        {**INBOUND, "from": "not a number"},
        {**INBOUND, "from": None, "contactId": None},  # nobody to name as the sender
        {**INBOUND, "body": ["a", "b"]},
        {**INBOUND, "attachments": "https://example.com/a.jpg"},
        {**INBOUND, "dateAdded": "last tuesday"},
        {**INBOUND, "messageId": "m" * 600},
    ],
)
def test_missing_or_mistyped_fields_are_malformed(payload):
    # Given a message webhook without a required field, or with one of the wrong type
    # When / Then
    with pytest.raises(MalformedPayload):
        parsed("ghl", payload, NOW)


@pytest.mark.parametrize("body", [b"not json", b"", b"[]", b"\xff", b"null"])
def test_garbage_bodies_are_malformed(body):
    # Given a body that is not a JSON object
    # When / Then
    with pytest.raises(MalformedPayload):
        parsed("ghl", body, NOW)
