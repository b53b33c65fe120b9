"""SmartLead: the body's own `secret_key` instead of a signature, and the flat event_type payloads."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.conftest import assert_accepted, parsed, parsed_message, webhook_request, without
from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid, WebhookRejected
from switchboard.http_api import request_from_event
from switchboard.models import Channel, Direction, Message, StatusUpdate
from switchboard.providers import smartlead
from switchboard.webhook_request import JSON, WebhookRequest
from switchboard_ops.local.secrets import webhook_secrets_document
from switchboard_ops.project import load_event

SECRET = "4f7c8d23-s3cret-smartlead"
SECRETS = {"secret_key": SECRET}
RECEIVED_AT = 1_795_593_600  # 2026-11-25T08:00:00Z
SENT_ID = "<20261124153000.4f2a9c1e@switchboard-demo.io>"
REPLY_ID = "<CAF7x2Qp9Lm3Nk8Vb1Rt6Yw0Zs4Hj5Ug@mail.gmail.com>"
BASE: dict[str, Any] = {
    "webhook_id": 48213,
    "sl_email_lead_id": 1939201543,
    "sl_lead_email": "maya.chen@northwind-logistics.com",
    "stats_id": "c1f3a0e2-5b7d-4e8a-9f61-2d4b8c0e7a13",
    "stats_thread_id": "e8b5d2a1-7c4f-4a3e-b6d9-1f0c2e4a8b57",
    "event_timestamp": "2026-11-25T08:00:00.000Z",
    "from_email": "alex@switchboard-demo.io",
    "to_email": "maya.chen@northwind-logistics.com",
    "campaign_id": 1204577,
    "sent_message": {"message_id": SENT_ID, "text": "Hi Maya, do your drivers answer dispatch texts?"},
    "secret_key": SECRET,
}
REPLY: dict[str, Any] = {
    **BASE,
    "event_type": "EMAIL_REPLY",
    "reply_message": {"message_id": REPLY_ID, "text": "Yes, Tuesday at 3pm works for me."},
    "preview_text": "Yes, Tuesday at 3pm",
    "leadCorrespondence": {
        "targetLeadEmail": "maya.chen@northwind-logistics.com",
        "replyReceivedFrom": "maya.chen@northwind-logistics.com",
    },
}


# --- verify -------------------------------------------------------------------------------------


def test_the_configured_secret_key_in_the_body_is_accepted():
    # Given a payload carrying the configured secret_key
    # When it is verified
    # Then it passes, and the same payload without the secret_key does not
    assert_accepted(
        webhook_request("smartlead", REPLY),
        SECRETS,
        now=0,
        uncredentialed=webhook_request("smartlead", without(REPLY, "secret_key")),
    )


@pytest.mark.parametrize(
    "value",
    [
        SECRET[:-1] + "x",  # wrong, same length
        SECRET + "0",  # one character longer
        SECRET[:8],  # a prefix
        "",  # empty
        SECRET.upper(),  # values are case-sensitive
        None,  # JSON null
        12345,  # not a string
        [SECRET],  # not a string
        "\ud800",  # a lone surrogate from a JSON escape
    ],
)
def test_any_other_secret_key_is_rejected_with_401(value):
    # Given a payload whose secret_key is not exactly the configured one
    # When it is verified
    # Then it is rejected as an invalid signature (401)
    with pytest.raises(SignatureInvalid) as rejected:
        smartlead.verify(webhook_request("smartlead", {**REPLY, "secret_key": value}), SECRETS, now=0)
    assert rejected.value.status_code == 401


def test_a_missing_secret_key_is_rejected_with_401():
    # Given a payload without secret_key
    # When it is verified
    # Then it is rejected (401)
    with pytest.raises(SignatureInvalid):
        smartlead.verify(webhook_request("smartlead", without(REPLY, "secret_key")), SECRETS, now=0)


def test_the_secret_in_a_header_does_not_count():
    # Given the secret sent as a header while the body has none
    body = json.dumps(without(REPLY, "secret_key")).encode()
    headers = {"content-type": JSON, "secret-key": SECRET, "secret_key": SECRET}

    # When it is verified
    # Then it is rejected: SmartLead's secret lives in the body
    with pytest.raises(SignatureInvalid):
        smartlead.verify(
            WebhookRequest(route="smartlead", url="https://x/", body=body, headers=headers), SECRETS, 0
        )


@pytest.mark.parametrize("secrets", [{}, {"secret_key": ""}, {"secret_key": None}])
def test_an_unconfigured_route_rejects_even_a_matching_empty_value(secrets):
    # Given no configured secret_key, and a payload whose secret_key is empty too
    # When it is verified
    # Then it fails closed as not configured (401), never as a match
    with pytest.raises(NotConfigured) as rejected:
        smartlead.verify(webhook_request("smartlead", {**REPLY, "secret_key": ""}), secrets, now=0)
    assert rejected.value.status_code == 401


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[1, 2]", b'"secret_key"', b""])
def test_a_body_that_is_not_a_json_object_is_a_400_before_any_secret_check(body):
    # Given a body the secret_key cannot be read from
    # When it is verified
    # Then it is malformed (400)
    with pytest.raises(MalformedPayload) as rejected:
        smartlead.verify(webhook_request("smartlead", body), SECRETS, now=0)
    assert rejected.value.status_code == 400


def test_signature_headers_add_nothing():
    # Given SmartLead's body-borne secret
    # When the local tooling asks for signature headers
    # Then there are none
    assert smartlead.signature_headers("https://x/", json.dumps(REPLY).encode(), SECRETS, now=0) == {}


@given(
    body=st.binary(max_size=512)
    | st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(st.text(), st.text())),
    secrets=st.dictionaries(st.just("secret_key"), st.none() | st.text(max_size=20) | st.integers()),
)
def test_garbage_is_only_ever_a_webhook_rejection(body, secrets):
    # Given any body and configuration
    garbage = WebhookRequest(route="smartlead", url="https://x/", body=body, headers={})

    # When it is verified
    # Then it either passes or raises a WebhookRejected, never anything else
    with contextlib.suppress(WebhookRejected):
        smartlead.verify(garbage, secrets, now=0)


# --- parse: messages ------------------------------------------------------------------------------


def test_email_reply_becomes_an_inbound_email_keyed_by_the_reply_message_id():
    # Given an EMAIL_REPLY event
    # When it is parsed
    message = parsed("smartlead", REPLY, RECEIVED_AT)

    # Then it is an inbound e-mail from the lead to the campaign mailbox, keyed by the reply's Message-ID
    assert isinstance(message, Message)
    assert (message.provider, message.provider_message_id) == ("smartlead", REPLY_ID)
    assert (message.channel, message.direction) == (Channel.EMAIL, Direction.INBOUND)
    assert (message.sender, message.recipient) == (
        "maya.chen@northwind-logistics.com",
        "alex@switchboard-demo.io",
    )
    assert message.body == "Yes, Tuesday at 3pm works for me."
    assert message.thread_id == "e8b5d2a1-7c4f-4a3e-b6d9-1f0c2e4a8b57"
    assert message.occurred_at.isoformat() == "2026-11-25T08:00:00+00:00"


def test_a_threaded_reply_from_a_colleague_names_who_actually_replied():
    # Given a reply received from someone other than the targeted lead
    payload = {**REPLY, "leadCorrespondence": {"replyReceivedFrom": "ops@northwind-logistics.com"}}

    # When it is parsed
    message = parsed_message("smartlead", payload, RECEIVED_AT)

    # Then the sender is the address the reply came from
    assert message.sender == "ops@northwind-logistics.com"


def test_a_reply_without_correspondence_is_from_the_lead():
    # Given a reply without leadCorrespondence
    # When it is parsed
    message = parsed_message("smartlead", without(REPLY, "leadCorrespondence"), RECEIVED_AT)

    # Then the sender is the lead's e-mail
    assert message.sender == "maya.chen@northwind-logistics.com"


def test_a_reply_without_text_uses_the_preview():
    # Given a reply whose reply_message has no text
    # When it is parsed
    message = parsed_message("smartlead", {**REPLY, "reply_message": {"message_id": REPLY_ID}}, RECEIVED_AT)

    # Then the body is the preview text
    assert message.body == "Yes, Tuesday at 3pm"


def test_a_reply_without_a_message_id_is_keyed_on_stats_id_event_type_and_time():
    # Given a reply without reply_message.message_id
    # When it is parsed
    message = parsed("smartlead", without(REPLY, "reply_message"), RECEIVED_AT)

    # Then its id is built from provider facts, never a body hash
    expected = "c1f3a0e2-5b7d-4e8a-9f61-2d4b8c0e7a13:EMAIL_REPLY:2026-11-25T08:00:00.000Z"
    assert message is not None and message.provider_message_id == expected


def test_a_reply_in_the_pre_2024_shape_is_keyed_by_its_top_level_message_id():
    # Given a reply with the deprecated top-level message_id and reply_body instead of reply_message
    payload = {**without(REPLY, "reply_message", "preview_text"), "message_id": REPLY_ID, "reply_body": "Yes"}

    # When it is parsed, Then it is keyed by the reply's own Message-ID, not stats_id + time
    message = parsed_message("smartlead", payload, RECEIVED_AT)
    assert (message.provider_message_id, message.body) == (REPLY_ID, "Yes")


def test_a_re_sent_reply_with_a_new_timestamp_keeps_its_id():
    # Given the same reply delivered again later (new event_timestamp), in the pre-2024 shape
    payload = {**without(REPLY, "reply_message"), "message_id": REPLY_ID}
    again = {**payload, "event_timestamp": "2026-11-25T08:05:00.000Z"}

    # When both are parsed, Then they share one id: one stored message
    first, second = parsed("smartlead", payload, RECEIVED_AT), parsed("smartlead", again, RECEIVED_AT)
    assert first is not None and second is not None
    assert first.provider_message_id == second.provider_message_id == REPLY_ID


def test_the_untracked_reply_sample_is_an_inbound_reply_keyed_by_its_message_id():
    # Given the UNTRACKED_REPLIES sample: a reply SmartLead matched to no campaign lead
    from switchboard_ops.local.samples import load_sample

    # When it is parsed
    message = smartlead.parse(
        webhook_request("smartlead", load_sample("smartlead_untracked_reply").body), received_at=RECEIVED_AT
    )

    # Then it is stored and processed like any reply: inbound, from who wrote, to the mailbox
    assert isinstance(message, Message)
    assert message.provider_message_id == "<CAH2k9Wm4Tq7Rz1Xc8Vb3Nn6Lp0Jd5Sf@mail.gmail.com>"
    assert (message.direction, message.event_type) == (Direction.INBOUND, "UNTRACKED_REPLIES")
    assert (message.sender, message.recipient) == (
        "sam.ortiz@harborfreight-partners.com",
        "alex@switchboard-demo.io",
    )
    assert message.body == "Maya forwarded this - can we talk Thursday?"


def test_the_stored_raw_payload_drops_the_secret_key():
    # Given a reply carrying secret_key
    # When it is parsed
    message = parsed("smartlead", REPLY, RECEIVED_AT)

    # Then raw keeps everything else but not the shared secret
    assert message is not None
    assert message.raw == without(REPLY, "secret_key")


@pytest.mark.parametrize("event_type", ["EMAIL_SENT", "FIRST_EMAIL_SENT"])
def test_sent_events_become_outbound_emails_keyed_by_the_sent_message_id(event_type):
    # Given an EMAIL_SENT or FIRST_EMAIL_SENT event
    # When it is parsed
    message = parsed("smartlead", {**BASE, "event_type": event_type}, RECEIVED_AT)

    # Then it is an outbound e-mail from the campaign mailbox to the lead
    assert isinstance(message, Message)
    assert (message.direction, message.provider_message_id) == (Direction.OUTBOUND, SENT_ID)
    assert (message.sender, message.recipient) == (
        "alex@switchboard-demo.io",
        "maya.chen@northwind-logistics.com",
    )
    assert message.body == "Hi Maya, do your drivers answer dispatch texts?"


def test_a_sent_event_without_a_message_id_is_keyed_on_stats_id_event_type_and_time():
    # Given an EMAIL_SENT without sent_message
    # When it is parsed
    message = parsed("smartlead", {**without(BASE, "sent_message"), "event_type": "EMAIL_SENT"}, RECEIVED_AT)

    # Then its id is built from provider facts
    expected = "c1f3a0e2-5b7d-4e8a-9f61-2d4b8c0e7a13:EMAIL_SENT:2026-11-25T08:00:00.000Z"
    assert message is not None and message.provider_message_id == expected


# --- parse: status updates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("EMAIL_OPEN", "opened"),
        ("EMAIL_LINK_CLICK", "clicked"),
        ("EMAIL_BOUNCE", "bounced"),
        ("LEAD_UNSUBSCRIBED", "unsubscribed"),
    ],
)
def test_engagement_events_become_status_updates_of_the_sent_email(event_type, status):
    # Given an open, click, bounce or unsubscribe event
    # When it is parsed
    update = parsed("smartlead", {**BASE, "event_type": event_type}, RECEIVED_AT)

    # Then it is a status update keyed like the sent e-mail's Message
    assert isinstance(update, StatusUpdate)
    assert (update.provider_message_id, update.status, update.event_type) == (SENT_ID, status, event_type)
    assert (update.sender, update.recipient) == (
        "alex@switchboard-demo.io",
        "maya.chen@northwind-logistics.com",
    )


def test_a_status_without_the_sent_message_is_keyed_by_stats_id():
    # Given an EMAIL_BOUNCE without sent_message
    # When it is parsed
    update = parsed("smartlead", {**without(BASE, "sent_message"), "event_type": "EMAIL_BOUNCE"}, RECEIVED_AT)

    # Then it is keyed by the stats record of that e-mail
    assert update is not None and update.provider_message_id == "c1f3a0e2-5b7d-4e8a-9f61-2d4b8c0e7a13"


@pytest.mark.parametrize("event_type", ["LEAD_CATEGORY_UPDATED", "CAMPAIGN_STATUS_CHANGE", "SOMETHING_NEW"])
def test_other_event_types_are_ignored(event_type):
    # Given an event type Switchboard does not handle
    # When it is parsed
    # Then it is ignored (None: the service answers 200 "ignored")
    assert parsed("smartlead", {**BASE, "event_type": event_type}, RECEIVED_AT) is None


def test_the_nested_doc_variant_is_a_400_not_silently_ignored():
    # Given the {event, lead, reply} shape of one doc variant (no event_type)
    payload = {
        "event": "EMAIL_REPLIED",
        "lead": {"email": "maya@x.com"},
        "reply": {"text": "hi"},
        "secret_key": SECRET,
    }

    # When it is parsed
    # Then it is malformed (400)
    with pytest.raises(MalformedPayload):
        parsed("smartlead", payload, RECEIVED_AT)


@pytest.mark.parametrize(
    "payload",
    [
        without(REPLY, "event_type"),
        {**REPLY, "event_type": ""},
        {**without(REPLY, "leadCorrespondence", "sl_lead_email", "to_email")},  # no sender
        {**without(REPLY, "reply_message", "stats_id")},  # no id and nothing to build one from
        {**REPLY, "event_timestamp": "last tuesday"},
        {**REPLY, "reply_message": "not an object"},
        {**REPLY, "reply_message": {"message_id": "x" * 600}},  # longer than any id the model stores
        {**without(BASE, "sent_message", "stats_id"), "event_type": "EMAIL_OPEN"},  # nothing to key on
        {**without(BASE, "from_email"), "event_type": "EMAIL_SENT"},  # no sender
    ],
)
def test_missing_or_invalid_fields_are_a_400(payload):
    # Given a handled event with a required field missing or invalid
    # When it is parsed
    # Then it is malformed (400)
    with pytest.raises(MalformedPayload) as rejected:
        parsed("smartlead", payload, RECEIVED_AT)
    assert rejected.value.status_code == 400


@pytest.mark.parametrize("body", [b"[1, 2]", b"null", b"not json"])
def test_a_body_that_is_not_a_json_object_is_a_400(body):
    # Given a body that is not a JSON object
    # When it is parsed
    # Then it is malformed (400)
    with pytest.raises(MalformedPayload):
        smartlead.parse(webhook_request("smartlead", body), received_at=RECEIVED_AT)


# --- the sample event -----------------------------------------------------------------------------


def test_the_sample_event_verifies_with_the_local_secrets_and_parses():
    # Given events/ingest/smartlead_email_reply.json and the local stack's secrets
    sample = request_from_event(load_event("ingest/smartlead_email_reply"))

    # When it is verified and parsed
    smartlead.verify(sample, webhook_secrets_document()["smartlead"], now=RECEIVED_AT)
    message = smartlead.parse(sample, received_at=RECEIVED_AT)

    # Then it is the documented inbound reply
    assert isinstance(message, Message)
    assert (message.provider_message_id, message.direction) == (REPLY_ID, Direction.INBOUND)
