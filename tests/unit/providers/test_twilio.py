"""Twilio signatures: the published test vectors, through twilio's own RequestValidator."""

from __future__ import annotations

import json

import pytest

from providers.conftest import assert_accepted, webhook_request
from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid
from switchboard.models import Channel, Direction
from switchboard.providers import twilio
from switchboard.webhook_request import FORM, WebhookRequest

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="  # twilio-python tests/unit/test_request_validator.py


def form_request(
    url: str, params: dict[str, str] | list[tuple[str, str]], signature: str | None
) -> WebhookRequest:
    """Twilio's form POST to `url`, signed with `signature` (None: no signature header)."""
    signed = {"x-twilio-signature": signature} if signature is not None else None
    return webhook_request("twilio", params, signed, url=url, content_type=FORM)


def test_published_form_vector_is_accepted():
    assert_accepted(form_request(URL, PARAMS, EXPECTED), {"auth_token": TOKEN}, now=0)


def test_sign_reproduces_the_published_vector():
    assert twilio.sign(URL, PARAMS, TOKEN) == EXPECTED


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", EXPECTED),  # port added by a proxy
        (URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # Twilio signed with :443
    ],
)
def test_signatures_with_and_without_default_port_are_both_accepted(url, signature):
    assert_accepted(form_request(url, PARAMS, signature), {"auth_token": TOKEN}, now=0)


def test_repeated_form_fields_are_signed_sorted_and_deduplicated():
    pairs = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]
    assert_accepted(form_request(URL, pairs, "IK+Dwps556ElfBT0I3Rgjkr1wJU="), {"auth_token": TOKEN}, now=0)


def test_json_body_is_verified_through_body_sha256():
    body = '{"property": "value", "boolean": true}'
    digest = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    request = webhook_request(
        "twilio",
        body.encode(),
        url=f"{URL}&bodySHA256={digest}",
        x_twilio_signature="a9nBmqA0ju/hNViExpshrM61xv4=",
    )
    assert_accepted(request, {"auth_token": TOKEN}, now=0)


def test_json_body_changed_after_signing_is_rejected():
    digest = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    request = webhook_request(
        "twilio",
        b'{"property": "other", "boolean": true}',
        url=f"{URL}&bodySHA256={digest}",
        x_twilio_signature="a9nBmqA0ju/hNViExpshrM61xv4=",
    )
    with pytest.raises(SignatureInvalid):
        twilio.verify(request, {"auth_token": TOKEN}, now=0)


def test_json_body_without_body_sha256_is_rejected():
    request = webhook_request("twilio", b"{}", url=URL, x_twilio_signature="x")
    with pytest.raises(SignatureInvalid):
        twilio.verify(request, {"auth_token": TOKEN}, now=0)


@pytest.mark.parametrize(
    ("url", "params", "signature"),
    [
        (URL, {**PARAMS, "Digits": "9999"}, EXPECTED),  # a param changed
        ("https://mycompany.com/other.php?foo=1&bar=2", PARAMS, EXPECTED),  # a different URL
        ("http://mycompany.com/myapp.php?foo=1&bar=2", PARAMS, EXPECTED),  # https stripped by a proxy
        (URL, PARAMS, "not-base64!"),
        (URL, PARAMS, ""),
    ],
)
def test_anything_but_the_signed_request_is_rejected(url, params, signature):
    with pytest.raises(SignatureInvalid):
        twilio.verify(form_request(url, params, signature), {"auth_token": TOKEN}, now=0)


def test_missing_signature_header_is_rejected():
    with pytest.raises(SignatureInvalid):
        twilio.verify(form_request(URL, PARAMS, None), {"auth_token": TOKEN}, now=0)


def test_wrong_auth_token_is_rejected():
    with pytest.raises(SignatureInvalid):
        twilio.verify(form_request(URL, PARAMS, EXPECTED), {"auth_token": "54321"}, now=0)


@pytest.mark.parametrize("secrets", [{}, {"auth_token": ""}, {"auth_token": None}])
def test_unconfigured_route_rejects_even_a_valid_signature(secrets):
    with pytest.raises(NotConfigured):
        twilio.verify(form_request(URL, PARAMS, EXPECTED), secrets, now=0)


INBOUND = {
    "MessageSid": "SM0123",
    "AccountSid": "AC1",
    "From": "+14155550123",
    "To": "+1 (415) 555-9876",
    "Body": "Hello",
    "NumMedia": "0",
}


def test_inbound_sms_becomes_an_inbound_message_with_e164_numbers():
    message = twilio.parse_message(form_request(URL, INBOUND, None), received_at=1_795_593_600)

    assert (message.provider, message.provider_message_id) == ("twilio", "SM0123")
    assert (message.channel, message.direction) == (Channel.SMS, Direction.INBOUND)
    assert (message.sender, message.recipient, message.body) == ("+14155550123", "+14155559876", "Hello")
    assert message.occurred_at.timestamp() == 1_795_593_600


def test_whatsapp_prefix_sets_the_channel_and_is_stripped():
    params = {**INBOUND, "From": "whatsapp:+447700900123", "To": "whatsapp:+14155559876"}

    message = twilio.parse_message(form_request(URL, params, None), received_at=0)

    assert message.channel == Channel.WHATSAPP
    assert message.sender == "+447700900123"


def test_media_makes_an_mms_with_its_urls():
    params = {
        **INBOUND,
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/m/ME1",
        "MediaContentType0": "image/png",
    }

    message = twilio.parse_message(form_request(URL, params, None), received_at=0)

    assert message.channel == Channel.MMS
    assert [(m.url, m.content_type) for m in message.media] == [("https://api.twilio.com/m/ME1", "image/png")]


@pytest.mark.parametrize(
    "change",
    [
        {"MessageSid": ""},
        {"From": ""},
        {"From": "not a number"},
        {"NumMedia": "two"},
        {"NumMedia": "1"},  # no MediaUrl0
    ],
)
def test_missing_or_invalid_fields_are_malformed(change):
    params = {**INBOUND, **change}
    if change.get("MessageSid") == "":
        params = {key: value for key, value in params.items() if key != "MessageSid"}

    with pytest.raises(MalformedPayload):
        twilio.parse_message(form_request(URL, params, None), received_at=0)


def test_status_callback_becomes_a_status_update():
    params = {
        "MessageSid": "SM9",
        "MessageStatus": "Undelivered",
        "ErrorCode": "30003",
        "To": "+14155550123",
        "From": "+14155559876",
    }

    update = twilio.parse_status(form_request(URL, params, None), received_at=0)

    assert (update.provider_message_id, update.status, update.error_code) == ("SM9", "undelivered", "30003")


def test_json_payload_parses_like_a_form():
    request = webhook_request("twilio", json.dumps(INBOUND).encode(), url=URL)

    assert twilio.parse_message(request, received_at=0).provider_message_id == "SM0123"


@pytest.mark.parametrize(
    ("parse", "status"),
    [(twilio.parse_message, None), (twilio.parse_status, "delivered")],
    ids=["message", "status"],
)
def test_an_over_long_message_sid_is_a_malformed_payload_not_a_crash(parse, status):
    # Given a webhook whose MessageSid is longer than the canonical model allows
    params = {"MessageSid": "SM" + "a" * 600, "From": "+14155559876", "To": "+14155550123"}
    if status:
        params["MessageStatus"] = status
    request = form_request(URL, params, None)

    # When it is parsed, Then it is refused as malformed (a 400), naming the field
    with pytest.raises(MalformedPayload, match="provider_message_id"):
        parse(request, 0)
