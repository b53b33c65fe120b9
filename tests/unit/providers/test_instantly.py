"""Instantly: a configured shared-secret header instead of a signature, and the v2 webhook events."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.conftest import assert_accepted, parsed, parsed_message, webhook_request, without
from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid, WebhookRejected
from switchboard.http_api import request_from_event
from switchboard.models import Channel, Direction, Message, StatusUpdate
from switchboard.providers import instantly
from switchboard.webhook_request import WebhookRequest
from switchboard_ops.local.secrets import webhook_secrets_document
from switchboard_ops.project import load_event

TOKEN = "Bearer s3cret-instantly-0001"
SECRETS = {"header": "Authorization", "value": TOKEN, "id_key": "local-id-key"}
RECEIVED_AT = 1_795_593_600  # 2026-11-25T08:00:00Z
LEAD = "maya.chen@northwind-logistics.com"
MAILBOX = "alex@switchboard-demo.io"
CAMPAIGN = "b2e4c6a8-0d1f-4a3b-8c5e-7f9a1b3d5e72"
EMAIL_ID = "0195f3a2-7c1e-7b4d-9e8f-2a6c4d1b3e57"
BASE: dict[str, Any] = {
    "timestamp": "2026-11-25T08:00:00.000Z",
    "workspace": "3f9a2c7e-1b4d-4e8f-a6c2-9d7e5b1f3a08",
    "campaign_id": CAMPAIGN,
    "campaign_name": "Q4 logistics outreach",
    "lead_email": LEAD,
    "email_account": MAILBOX,
    "email_id": EMAIL_ID,
}
REPLY: dict[str, Any] = {
    **BASE,
    "event_type": "reply_received",
    "reply_text": "Yes, Tuesday at 3pm works for me.",
    "reply_text_snippet": "Yes, Tuesday at 3pm",
    "companyName": "Northwind Logistics",  # lead custom fields are merged in as extra keys
}


# --- verify -------------------------------------------------------------------------------------


def test_the_configured_authorization_header_is_accepted():
    # Given a request carrying the configured Authorization value
    # When it is verified
    # Then no error is raised
    assert_accepted(webhook_request("instantly", REPLY, authorization=TOKEN), SECRETS, now=0)


@pytest.mark.parametrize(
    "value",
    [
        TOKEN[:-1] + "2",  # wrong, same length
        TOKEN + "1",  # one character longer
        "Bearer",  # a prefix
        "",  # empty
        TOKEN.removeprefix("Bearer "),  # the bare token is not the configured value
        TOKEN.replace("Bearer", "bearer"),  # values are compared exactly
    ],
)
def test_any_other_header_value_is_rejected_with_401(value):
    # Given a request whose Authorization header is not exactly the configured value
    # When it is verified
    # Then it is rejected as an invalid signature (401)
    with pytest.raises(SignatureInvalid) as rejected:
        instantly.verify(webhook_request("instantly", REPLY, authorization=value), SECRETS, now=0)
    assert rejected.value.status_code == 401


def test_a_missing_header_is_rejected_with_401():
    # Given a request without the Authorization header
    # When it is verified
    # Then it is rejected (401)
    with pytest.raises(SignatureInvalid) as rejected:
        instantly.verify(webhook_request("instantly", REPLY), SECRETS, now=0)
    assert rejected.value.status_code == 401


@pytest.mark.parametrize(
    "secrets", [{}, {"header": "Authorization"}, {"header": "Authorization", "value": ""}]
)
def test_an_unconfigured_route_rejects_even_a_matching_empty_value(secrets):
    # Given no configured value, and a request whose header is empty too
    # When it is verified
    # Then it fails closed as not configured (401), never as a match
    with pytest.raises(NotConfigured) as rejected:
        instantly.verify(webhook_request("instantly", REPLY, authorization=""), secrets, now=0)
    assert rejected.value.status_code == 401


def test_the_configured_header_name_matches_in_any_case():
    # Given a header name configured in mixed case and delivered lowercased by API Gateway
    secrets = {"header": "X-Instantly-Secret", "value": "s3cret"}

    # When it is verified
    # Then it is accepted
    assert_accepted(webhook_request("instantly", REPLY, x_instantly_secret="s3cret"), secrets, now=0)


def test_signature_headers_produce_a_request_that_verifies():
    # Given the headers the local tooling sends for Instantly
    headers = instantly.signature_headers("https://x/webhooks/instantly", b"{}", SECRETS, now=0)

    # When they are delivered (lowercased) and verified
    # Then they are accepted
    assert headers == {"Authorization": TOKEN}
    instantly.verify(
        webhook_request("instantly", REPLY, headers={name.lower(): value for name, value in headers.items()}),
        SECRETS,
        now=0,
    )


@given(
    body=st.binary(max_size=512),
    headers=st.dictionaries(
        st.sampled_from(["authorization", "content-type", "x"]) | st.text(max_size=10), st.text()
    ),
    secrets=st.dictionaries(
        st.sampled_from(["header", "value"]), st.none() | st.text(max_size=20) | st.integers()
    ),
)
def test_garbage_is_only_ever_a_webhook_rejection(body, headers, secrets):
    # Given any body, headers and configuration
    garbage = WebhookRequest(route="instantly", url="https://x/", body=body, headers=headers)

    # When it is verified
    # Then it either passes or raises a WebhookRejected, never anything else
    with contextlib.suppress(WebhookRejected):
        instantly.verify(garbage, secrets, now=0)


# --- parse: messages ------------------------------------------------------------------------------


def test_reply_received_becomes_an_inbound_email_keyed_by_email_id():
    # Given a reply_received event
    # When it is parsed
    message = parsed("instantly", REPLY, RECEIVED_AT, SECRETS)

    # Then it is an inbound e-mail from the lead to the sending mailbox, keyed by Instantly's email_id
    assert isinstance(message, Message)
    assert (message.provider, message.provider_message_id) == ("instantly", EMAIL_ID)
    assert (message.channel, message.direction) == (Channel.EMAIL, Direction.INBOUND)
    assert (message.sender, message.recipient) == (LEAD, MAILBOX)
    assert message.body == "Yes, Tuesday at 3pm works for me."
    assert message.account_id == "3f9a2c7e-1b4d-4e8f-a6c2-9d7e5b1f3a08"
    assert message.occurred_at.isoformat() == "2026-11-25T08:00:00+00:00"
    assert message.raw == REPLY


def test_a_reply_without_full_text_uses_the_snippet():
    # Given a reply with only reply_text_snippet
    # When it is parsed
    message = parsed_message("instantly", without(REPLY, "reply_text"), RECEIVED_AT, SECRETS)

    # Then the body is the snippet
    assert message.body == "Yes, Tuesday at 3pm"


def test_a_reply_without_email_id_is_keyed_on_a_keyed_hash_of_event_campaign_lead_and_time():
    # Given a reply without email_id
    # When it is parsed
    message = parsed("instantly", without(REPLY, "email_id"), RECEIVED_AT, SECRETS)

    # Then its id is the HMAC-SHA256 (key: id_key) of the provider facts (providers.md §10), never the
    # lead's e-mail itself: known answer of "reply_received␟campaign␟lead␟timestamp"
    expected = "reply_received:4c4f943cc74af0513c04e4f4cd5e4511b2d7c62e47f93a5c62398e37f0127437"
    assert message is not None and message.provider_message_id == expected


def test_the_hashed_id_is_the_same_when_instantly_resends_the_event():
    # Given the same reply without email_id delivered twice (a retry)
    # When both are parsed, Then they share one id: the idempotency key holds
    first, second = (
        parsed("instantly", without(REPLY, "email_id"), RECEIVED_AT, SECRETS),
        parsed("instantly", without(REPLY, "email_id"), RECEIVED_AT, SECRETS),
    )
    assert first is not None and second is not None
    assert first.provider_message_id == second.provider_message_id


def test_the_hashed_id_changes_with_the_event_time():
    # Given two replies of one lead at different times, Then they are two messages
    first = parsed("instantly", without(REPLY, "email_id"), RECEIVED_AT, SECRETS)
    later = parsed(
        "instantly",
        {**without(REPLY, "email_id"), "timestamp": "2026-11-25T09:00:00.000Z"},
        RECEIVED_AT,
        SECRETS,
    )
    assert first is not None and later is not None
    assert first.provider_message_id != later.provider_message_id


def test_without_an_id_key_the_shared_secret_keys_the_hash():
    # Given a section without id_key (the documented fallback: the header's secret value)
    message = parsed_message("instantly", without(REPLY, "email_id"), RECEIVED_AT, {"value": "local-id-key"})

    # Then the id is the one an id_key of that value gives
    assert (
        message.provider_message_id
        == parsed_message("instantly", without(REPLY, "email_id"), RECEIVED_AT, SECRETS).provider_message_id
    )


def test_without_any_key_a_reply_without_email_id_is_refused_as_not_configured():
    with pytest.raises(NotConfigured):
        parsed("instantly", without(REPLY, "email_id"), RECEIVED_AT, None)


def test_email_sent_becomes_an_outbound_email():
    # Given an email_sent event
    # When it is parsed
    message = parsed(
        "instantly",
        {**BASE, "event_type": "email_sent", "email_text": "Hi Maya, quick question"},
        RECEIVED_AT,
        SECRETS,
    )

    # Then it is an outbound e-mail from the mailbox to the lead
    assert isinstance(message, Message)
    assert (message.direction, message.provider_message_id) == (Direction.OUTBOUND, EMAIL_ID)
    assert (message.sender, message.recipient, message.body) == (MAILBOX, LEAD, "Hi Maya, quick question")


# --- parse: status updates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("email_opened", "opened"),
        ("email_link_clicked", "clicked"),
        ("link_clicked", "clicked"),
        ("email_bounced", "bounced"),
        ("lead_unsubscribed", "unsubscribed"),
    ],
)
def test_engagement_events_become_status_updates(event_type, status):
    # Given an open, click, bounce or unsubscribe event
    # When it is parsed
    update = parsed("instantly", {**BASE, "event_type": event_type}, RECEIVED_AT, SECRETS)

    # Then it is a status update of that e-mail
    assert isinstance(update, StatusUpdate)
    assert (update.provider_message_id, update.status, update.event_type) == (EMAIL_ID, status, event_type)
    assert (update.channel, update.sender, update.recipient) == (Channel.EMAIL, MAILBOX, LEAD)


def test_a_status_without_email_id_is_keyed_on_a_keyed_hash_of_its_facts():
    # Given a lead_unsubscribed event without email_id
    # When it is parsed
    update = parsed(
        "instantly", {**without(BASE, "email_id"), "event_type": "lead_unsubscribed"}, RECEIVED_AT, SECRETS
    )

    # Then its id is a keyed hash of provider facts, without the lead's address
    expected = "lead_unsubscribed:5283e3d08f06f62b115844a274c11ed57f20ad1d6a3f1b5a3b40baa9524b6f52"
    assert update is not None and update.provider_message_id == expected


@pytest.mark.parametrize(
    "event_type",
    ["campaign_completed", "account_error", "lead_interested", "auto_reply_received", "new_thing"],
)
def test_other_event_types_are_ignored(event_type):
    # Given an event type Switchboard does not handle
    # When it is parsed
    # Then it is ignored (None: the service answers 200 "ignored")
    assert parsed("instantly", {**BASE, "event_type": event_type}, RECEIVED_AT, SECRETS) is None


def test_custom_label_events_with_a_null_event_type_are_ignored():
    # Given a custom label event (event_type null, custom_interest_value set)
    # When it is parsed
    # Then it is ignored
    assert (
        parsed("instantly", {**BASE, "event_type": None, "custom_interest_value": 7}, RECEIVED_AT, SECRETS)
        is None
    )


@pytest.mark.parametrize(
    "payload",
    [
        without(REPLY, "event_type"),
        {**REPLY, "event_type": None},
        without(REPLY, "lead_email"),  # no sender
        {**without(BASE, "email_account"), "event_type": "email_sent"},  # no sender
        without(REPLY, "email_id", "campaign_id"),  # no id and nothing to build one from
        {**REPLY, "timestamp": "soon"},
        {**REPLY, "reply_text": {"html": "<p>"}},
        {**REPLY, "email_id": "x" * 600},  # longer than any id the model stores
    ],
)
def test_missing_or_invalid_fields_are_a_400(payload):
    # Given a handled event with a required field missing or invalid
    # When it is parsed
    # Then it is malformed (400)
    with pytest.raises(MalformedPayload) as rejected:
        parsed("instantly", payload, RECEIVED_AT, SECRETS)
    assert rejected.value.status_code == 400


@pytest.mark.parametrize("body", [b"[1, 2]", b"null", b"not json", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_a_400(body):
    # Given a body that is not a JSON object
    # When it is parsed
    # Then it is malformed (400)
    with pytest.raises(MalformedPayload):
        instantly.parse(webhook_request("instantly", body), received_at=RECEIVED_AT)


# --- the sample event -----------------------------------------------------------------------------


def test_the_sample_event_verifies_with_the_local_secrets_and_parses():
    # Given events/ingest/instantly_reply_received.json and the local stack's secrets
    sample = request_from_event(load_event("ingest/instantly_reply_received"))

    # When it is verified and parsed
    instantly.verify(sample, webhook_secrets_document()["instantly"], now=RECEIVED_AT)
    message = instantly.parse(sample, received_at=RECEIVED_AT)

    # Then it is the documented inbound reply
    assert isinstance(message, Message)
    assert (message.provider_message_id, message.direction) == (EMAIL_ID, Direction.INBOUND)
