"""API Gateway v2 events -> WebhookRequest: the public URL Twilio signed, the route, the raw body."""

from __future__ import annotations

import base64

import pytest

from switchboard.errors import MalformedPayload
from switchboard.http_api import public_url, request_from_event, route_name
from switchboard.webhook_request import WebhookRequest


def event(**overrides):
    base = {
        "rawPath": "/webhooks/twilio/status",
        "rawQueryString": "",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "X-Forwarded-Proto": "https"},
        "pathParameters": {"provider": "twilio/status"},
        "body": "a=1",
        "isBase64Encoded": False,
    }
    return {**base, **overrides}


def test_url_is_rebuilt_from_host_and_forwarded_proto():
    assert public_url(event()) == "https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/twilio/status"


def test_query_string_is_kept_because_twilio_signs_it():
    assert public_url(event(rawQueryString="bodySHA256=ab")).endswith("/webhooks/twilio/status?bodySHA256=ab")


def test_public_base_url_replaces_scheme_host_and_any_stage_prefix():
    staged = event(rawPath="/prod/webhooks/twilio/status")

    assert (
        public_url(staged, "https://hooks.example.com/sms/")
        == "https://hooks.example.com/sms/webhooks/twilio/status"
    )


def test_route_comes_from_the_greedy_path_parameter_or_the_path():
    assert route_name(event()) == "twilio/status"
    assert route_name(event(pathParameters=None, rawPath="/prod/webhooks/ghl")) == "ghl"


def test_base64_bodies_are_decoded_to_raw_bytes():
    raw = b"\xff\xfe binary"
    request = request_from_event(event(body=base64.b64encode(raw).decode(), isBase64Encoded=True))

    assert request.body == raw


def test_broken_base64_is_malformed():
    with pytest.raises(MalformedPayload):
        request_from_event(event(body="%%%", isBase64Encoded=True))


def test_headers_are_looked_up_case_insensitively():
    request = request_from_event(event(headers={"Content-Type": "Application/JSON; charset=utf-8"}))

    assert request.content_type == "application/json"


@pytest.mark.parametrize("body", [b"[" * 100_000, b"\xff", b"[1, 2]", b"not json"])
def test_bodies_that_are_not_a_json_object_are_malformed(body):
    with pytest.raises(MalformedPayload):
        WebhookRequest(route="x", url="https://x/", body=body).json_object()


@pytest.mark.parametrize("body", [b"a=1&&b", b"\xff=1"])
def test_broken_form_bodies_are_malformed(body):
    with pytest.raises(MalformedPayload):
        WebhookRequest(route="x", url="https://x/", body=body).form()
