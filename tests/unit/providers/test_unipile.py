"""Unipile: a configured shared-secret header instead of a signature, and message_received parsing."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.conftest import assert_accepted, parsed, parsed_message, webhook_request
from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid, WebhookRejected
from switchboard.http_api import request_from_event
from switchboard.models import Channel, Direction, Message
from switchboard.providers import unipile
from switchboard.webhook_request import JSON, WebhookRequest
from switchboard_ops.local.secrets import webhook_secrets_document
from switchboard_ops.project import load_event

SECRETS = {"header": "Unipile-Auth", "value": "s3cret-unipile-0001"}
ME = "ACoAAB7kQ2sBx9LmTr4vWn3YpZc8HdFj1EgU0aI"
LEAD = "ACoAADf3Rz8uN1cVx6KqPm2TbYw9LhJs4GeA7oQ"
RECEIVED_AT = 1_795_593_600  # 2026-11-25T08:00:00Z
PAYLOAD: dict[str, Any] = {
    "account_id": "kX9dP2mQfR7tLw4nZ8bV",
    "account_type": "LINKEDIN",
    "account_info": {"type": "LINKEDIN", "user_id": ME},
    "event": "message_received",
    "chat_id": "Rz3nT8wQ1kYb6MvJ0sLd",
    "timestamp": "2026-11-24T13:49:07.965Z",
    "message_id": "9fGh2KjL4mNp6QrS8tUv",
    "message": "Hello World !",
    "sender": {"attendee_id": "Yp5cW2xE9r", "attendee_name": "Maya Chen", "attendee_provider_id": LEAD},
    "attendees": [{"attendee_provider_id": LEAD}, {"attendee_provider_id": ME}],
    "attachments": [],
}

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def signed(body: bytes | dict[str, Any] | list[Any] = PAYLOAD) -> WebhookRequest:
    return webhook_request("unipile", body, unipile_auth=SECRETS["value"])


# --- verify -------------------------------------------------------------------------------------


def test_the_configured_secret_header_is_accepted():
    # Given a request carrying the configured Unipile-Auth value
    # When it is verified
    # Then no error is raised
    assert_accepted(signed(), SECRETS, now=0)


@pytest.mark.parametrize(
    "value",
    [
        "s3cret-unipile-0002",  # wrong, same length
        "s3cret-unipile-00011",  # one character longer
        "s3cret",  # a prefix
        "",  # empty
        "S3CRET-UNIPILE-0001",  # values are case-sensitive
        " s3cret-unipile-0001",  # not trimmed
    ],
)
def test_any_other_header_value_is_rejected_with_401(value):
    # Given a request whose Unipile-Auth header is not exactly the configured value
    # When it is verified
    # Then it is rejected as an invalid signature (401)
    with pytest.raises(SignatureInvalid) as rejected:
        unipile.verify(webhook_request("unipile", PAYLOAD, unipile_auth=value), SECRETS, now=0)
    assert rejected.value.status_code == 401


def test_a_missing_header_is_rejected_with_401():
    # Given a request without the Unipile-Auth header
    # When it is verified
    # Then it is rejected (401)
    with pytest.raises(SignatureInvalid) as rejected:
        unipile.verify(webhook_request("unipile", PAYLOAD), SECRETS, now=0)
    assert rejected.value.status_code == 401


def test_the_secret_in_another_header_is_rejected():
    # Given the right value sent under a header name other than the configured one
    # When it is verified
    # Then it is rejected
    with pytest.raises(SignatureInvalid):
        unipile.verify(webhook_request("unipile", PAYLOAD, x_api_key=SECRETS["value"]), SECRETS, now=0)


@pytest.mark.parametrize("secrets", [{}, {"header": "Unipile-Auth"}, {"header": "Unipile-Auth", "value": ""}])
def test_an_unconfigured_route_rejects_even_a_matching_empty_value(secrets):
    # Given no configured value, and a request whose header is empty too
    # When it is verified
    # Then it fails closed as not configured (401), never as a match
    with pytest.raises(NotConfigured) as rejected:
        unipile.verify(webhook_request("unipile", PAYLOAD, unipile_auth=""), secrets, now=0)
    assert rejected.value.status_code == 401


def test_the_configured_header_name_matches_in_any_case():
    # Given a header name configured in upper case and delivered lowercased by API Gateway
    secrets = {"header": "UNIPILE-AUTH", "value": SECRETS["value"]}

    # When it is verified
    # Then it is accepted
    assert_accepted(signed(), secrets, now=0)


def test_the_header_name_is_configurable():
    # Given a webhook created with a custom header name
    secrets = {"header": "X-Switchboard-Token", "value": SECRETS["value"]}

    # When a request carries the secret under that name
    # Then it is accepted
    assert_accepted(webhook_request("unipile", PAYLOAD, x_switchboard_token=SECRETS["value"]), secrets, now=0)


def test_without_a_configured_header_name_unipile_auth_is_expected():
    # Given only a configured value
    # When a request carries it in Unipile-Auth
    # Then it is accepted
    assert_accepted(signed(), {"value": SECRETS["value"]}, now=0)


def test_signature_headers_produce_a_request_that_verifies():
    # Given the headers the local tooling sends for Unipile
    headers = unipile.signature_headers("https://x/webhooks/unipile", b"{}", SECRETS, now=0)

    # When they are delivered (lowercased) and verified
    # Then they are accepted
    assert headers == {"Unipile-Auth": SECRETS["value"]}
    unipile.verify(
        webhook_request("unipile", PAYLOAD, headers={name.lower(): value for name, value in headers.items()}),
        SECRETS,
        now=0,
    )


@given(
    body=st.binary(max_size=512),
    headers=st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=5),
    secrets=st.dictionaries(
        st.sampled_from(["header", "value"]), st.none() | st.text(max_size=20) | st.integers()
    ),
)
def test_garbage_is_only_ever_a_webhook_rejection(body, headers, secrets):
    # Given any body, headers and configuration
    garbage = WebhookRequest(route="unipile", url="https://x/", body=body, headers=headers)

    # When it is verified
    # Then it either passes or raises a WebhookRejected, never anything else
    with contextlib.suppress(WebhookRejected):
        unipile.verify(garbage, secrets, now=0)


# --- content types --------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [JSON, "text/plain", ""])
def test_api_created_webhooks_without_a_json_content_type_are_accepted(content_type):
    # Given the content types Unipile sends, including none for API-created webhooks
    # When the ingest service checks the request's content type
    # Then it is one Unipile's route accepts
    assert content_type in unipile.CONTENT_TYPES


# --- parse ----------------------------------------------------------------------------------------


def test_message_received_becomes_an_inbound_linkedin_message():
    # Given a message_received event from a lead
    # When it is parsed
    message = parsed("unipile", PAYLOAD, RECEIVED_AT)

    # Then it is an inbound LinkedIn message keyed by Unipile's message_id
    assert isinstance(message, Message)
    assert (message.provider, message.provider_message_id) == ("unipile", "9fGh2KjL4mNp6QrS8tUv")
    assert (message.channel, message.direction) == (Channel.LINKEDIN, Direction.INBOUND)
    assert (message.sender, message.recipient, message.body) == (
        LEAD,
        "kX9dP2mQfR7tLw4nZ8bV",
        "Hello World !",
    )
    assert (message.thread_id, message.account_id) == ("Rz3nT8wQ1kYb6MvJ0sLd", "kX9dP2mQfR7tLw4nZ8bV")
    assert message.occurred_at.isoformat() == "2026-11-24T13:49:07.965000+00:00"
    assert message.raw == PAYLOAD


def test_a_message_sent_by_the_account_itself_is_outbound_to_the_other_attendee():
    # Given a message_received event whose sender is the connected account (sent from another device)
    payload = {**PAYLOAD, "sender": {"attendee_provider_id": ME}}

    # When it is parsed
    message = parsed_message("unipile", payload, RECEIVED_AT)

    # Then it is outbound, addressed to the chat's other attendee
    assert (message.direction, message.sender, message.recipient) == (Direction.OUTBOUND, ME, LEAD)


def test_a_non_linkedin_account_is_channel_other():
    # Given a message from a non-LinkedIn account
    # When it is parsed
    message = parsed("unipile", {**PAYLOAD, "account_type": "TELEGRAM"}, RECEIVED_AT)

    # Then its channel is "other"
    assert message is not None and message.channel == Channel.OTHER


def test_sender_falls_back_to_the_attendee_id():
    # Given a sender without a provider id
    # When it is parsed
    message = parsed_message("unipile", {**PAYLOAD, "sender": {"attendee_id": "Yp5cW2xE9r"}}, RECEIVED_AT)

    # Then the Unipile attendee id is the sender
    assert message.sender == "Yp5cW2xE9r"


def test_attachments_with_a_url_become_media():
    # Given attachments, one with a URL and one without
    attachments = [
        {"id": "a1", "type": "img", "mimetype": "image/png", "url": "https://files.example/a1.png"},
        {"id": "a2", "type": "file", "unavailable": True},
    ]

    # When it is parsed
    message = parsed_message("unipile", {**PAYLOAD, "attachments": attachments}, RECEIVED_AT)

    # Then only the one with a URL becomes media, with its MIME type
    assert [(m.url, m.content_type) for m in message.media] == [("https://files.example/a1.png", "image/png")]


def test_a_single_attachment_object_is_accepted_as_the_docs_show_it():
    # Given attachments as one object (the shape of the docs' example)
    attachment = {"id": "a1", "mimetype": "image/jpeg", "url": "https://files.example/a1.jpg"}

    # When it is parsed
    message = parsed_message("unipile", {**PAYLOAD, "attachments": attachment}, RECEIVED_AT)

    # Then it becomes one media item
    assert [m.url for m in message.media] == ["https://files.example/a1.jpg"]


def test_a_missing_timestamp_falls_back_to_the_receive_time():
    # Given no timestamp
    payload = {key: value for key, value in PAYLOAD.items() if key != "timestamp"}

    # When it is parsed
    message = parsed("unipile", payload, RECEIVED_AT)

    # Then occurred_at is when the webhook arrived
    assert message is not None and message.occurred_at.timestamp() == RECEIVED_AT


@pytest.mark.parametrize("event", ["message_read", "message_reaction", "message_edited", "account_status"])
def test_other_events_are_ignored(event):
    # Given an event other than message_received
    # When it is parsed
    # Then it is ignored (None: the service answers 200 "ignored")
    assert parsed("unipile", {**PAYLOAD, "event": event}, RECEIVED_AT) is None


@pytest.mark.parametrize(
    "change",
    [
        {"event": None},
        {"message_id": None},
        {"message_id": ""},
        {"sender": None},
        {"sender": {"attendee_name": "No Id"}},
        {"sender": "ACoAAD"},
        {"timestamp": "yesterday"},
        {"message": {"text": "not a string"}},
        {"message_id": "x" * 600},  # longer than any provider id the model stores
    ],
)
def test_missing_or_invalid_fields_are_a_400(change):
    # Given a message_received payload with a required field missing or invalid
    # When it is parsed
    # Then it is malformed (400)
    with pytest.raises(MalformedPayload) as rejected:
        parsed("unipile", {**PAYLOAD, **change}, RECEIVED_AT)
    assert rejected.value.status_code == 400


@pytest.mark.parametrize("body", [b"[1, 2]", b'"message_received"', b"null", b"not json", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_a_400(body):
    # Given a body that is not a JSON object
    # When it is parsed
    # Then it is malformed (400)
    with pytest.raises(MalformedPayload):
        unipile.parse(webhook_request("unipile", body), received_at=RECEIVED_AT)


@given(st.dictionaries(st.sampled_from(sorted(PAYLOAD)), JSON_VALUES, max_size=4))
def test_garbage_fields_are_only_ever_a_400_or_ignored(change):
    # Given a message_received payload with arbitrary values in known fields
    # When it is parsed
    # Then it yields a Message or None, or a WebhookRejected, never anything else
    with contextlib.suppress(WebhookRejected):
        parsed("unipile", {**PAYLOAD, **change}, RECEIVED_AT)


# --- the sample event -----------------------------------------------------------------------------


def test_the_sample_event_verifies_with_the_local_secrets_and_parses():
    # Given events/ingest/unipile_message_received.json and the local stack's secrets
    sample = request_from_event(load_event("ingest/unipile_message_received"))

    # When it is verified and parsed
    unipile.verify(sample, webhook_secrets_document()["unipile"], now=RECEIVED_AT)
    message = unipile.parse(sample, received_at=RECEIVED_AT)

    # Then it is the documented inbound LinkedIn message
    assert message is not None
    assert (message.provider_message_id, message.channel) == ("9fGh2KjL4mNp6QrS8tUv", Channel.LINKEDIN)
    assert message.occurred_at.isoformat() == "2026-11-25T08:00:00+00:00"
