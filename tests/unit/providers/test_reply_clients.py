"""The four reply clients: known-answer request bodies against outbound-apis.md sections 1-4, and how
each provider's answers are sorted (sent / rejected / retry later / unknown outcome)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from switchboard.errors import ReplyNotPossible
from switchboard.models.drafts import draft_send_key
from switchboard.models.outbound import SendRequest
from switchboard.providers import ghl_send, instantly_send, reply_http, smartlead_send, unipile_send
from switchboard.providers.outbound import SendAmbiguous, SendRejected, SendUnavailable
from switchboard.providers.replies import reply_request
from switchboard_ops.project import EVENTS

TEXT = "See you Tuesday"
CREDENTIALS = {"access_token": "tok-123", "api_key": "key-123"}


def sample(name: str) -> dict[str, Any]:
    return json.loads(json.loads((EVENTS / "payloads" / f"{name}.json").read_text())["body"])


def record(provider: str, payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A stored inbound message as the events table holds it (raw as JSON text)."""
    return {
        "pk": f"EVT#{provider}#m1",
        "sk": "MESSAGE",
        "provider": provider,
        "direction": "inbound",
        "raw": json.dumps(payload),
        **fields,
    }


def draft(to: str) -> dict[str, Any]:
    return {"pk": "EVT#x#m1", "sk": "DRAFT", "to": to, "text": TEXT, "status": "approved"}


def ghl_sms() -> SendRequest:
    return reply_request(
        record(
            "ghl", sample("ghl_inbound_sms"), channel="sms", sender="+14155550123", recipient="+14155559876"
        ),
        draft("+14155550123"),
    )


def smartlead_reply() -> SendRequest:
    lead, mailbox = "maya.chen@northwind-logistics.com", "alex@switchboard-demo.io"
    return reply_request(
        record("smartlead", sample("smartlead_email_reply"), channel="email", sender=lead, recipient=mailbox),
        draft(lead),
    )


def instantly_reply() -> SendRequest:
    lead, mailbox = "maya.chen@northwind-logistics.com", "alex@switchboard-demo.io"
    return reply_request(
        record(
            "instantly", sample("instantly_reply_received"), channel="email", sender=lead, recipient=mailbox
        ),
        draft(lead),
    )


def unipile_reply() -> SendRequest:
    member = "ACoAADf3Rz8uN1cVx6KqPm2TbYw9LhJs4GeA7oQ"
    return reply_request(
        record("unipile", sample("unipile_message_received"), channel="linkedin", sender=member),
        draft(member),
    )


def test_ghl_sms_reply_is_the_references_send_message_body():
    call = ghl_send.build(ghl_sms(), CREDENTIALS)

    assert call.url == "https://services.leadconnectorhq.com/conversations/messages"
    assert call.headers["Authorization"] == "Bearer tok-123" and call.headers["Version"] == "2021-04-15"
    assert call.json == {"type": "SMS", "contactId": "nmt8yL2QfXo3RkPbW4cA", "message": TEXT}


def test_ghl_email_reply_threads_on_the_answered_message():
    payload = {**sample("ghl_inbound_sms"), "messageType": "Email", "subject": "Quote", "threadId": "th-9"}
    request = reply_request(
        record("ghl", payload, channel="email", sender="lead@x.com", recipient="ve9EPM428h8vShlRW1KT"),
        draft("lead@x.com"),
    )

    assert ghl_send.build(request, CREDENTIALS).json == {
        "type": "Email",
        "contactId": "nmt8yL2QfXo3RkPbW4cA",
        "subject": "Re: Quote",
        "html": f"<p>{TEXT}</p>",
        "emailTo": "lead@x.com",
        "threadId": "th-9",
        "replyMessageId": "tKq4Wz9hB2mXc7RfLp3e",
    }


def test_smartlead_reply_sends_all_five_thread_fields_with_the_key_in_the_query():
    call = smartlead_send.build(smartlead_reply(), CREDENTIALS)

    assert call.url == "https://server.smartlead.ai/api/v1/campaigns/1204577/reply-email-thread"
    assert call.params == {"api_key": "key-123"}
    assert call.json == {
        "email_stats_id": "c1f3a0e2-5b7d-4e8a-9f61-2d4b8c0e7a13",
        "email_body": f"<p>{TEXT}</p>",
        "reply_message_id": "<CAF7x2Qp9Lm3Nk8Vb1Rt6Yw0Zs4Hj5Ug@mail.gmail.com>",
        "reply_email_time": "2026-11-25T08:00:00.000Z",
        "reply_email_body": '<div dir="ltr">Yes, Tuesday at 3pm works for me.</div>',
    }


def test_instantly_reply_answers_the_webhooks_email_id_from_its_mailbox():
    call = instantly_send.build(instantly_reply(), CREDENTIALS)

    assert call.url == "https://api.instantly.ai/api/v2/emails/reply"
    assert call.headers["Authorization"] == "Bearer key-123"
    assert call.json == {
        "eaccount": "alex@switchboard-demo.io",
        "reply_to_uuid": "0195f3a2-7c1e-7b4d-9e8f-2a6c4d1b3e57",
        "subject": "Re: Dispatch texts that drivers actually answer",
        "body": {"text": TEXT},
    }


def test_unipile_reply_is_multipart_into_the_chat_of_its_account():
    call = unipile_send.build(unipile_reply(), CREDENTIALS, base_url="https://api7.unipile.com:13443")

    assert call.url == "https://api7.unipile.com:13443/api/v1/chats/Rz3nT8wQ1kYb6MvJ0sLd/messages"
    assert call.headers["X-API-KEY"] == "key-123" and call.json is None
    assert call.multipart == {"text": TEXT, "account_id": "kX9dP2mQfR7tLw4nZ8bV"}


def test_a_reply_request_is_keyed_on_its_draft():
    assert unipile_reply().send_key == draft_send_key("EVT#x#m1")
    assert unipile_reply().purpose == "auto_reply"


def test_a_client_without_its_key_rejects_the_send_before_any_request():
    with pytest.raises(SendRejected, match="not_configured"):
        instantly_send.build(instantly_reply(), {})


@pytest.mark.parametrize(
    ("provider", "payload", "channel"),
    [
        ("unipile", {"account_id": "a1"}, "linkedin"),  # no chat_id
        ("instantly", {"email_account": "me@x.com", "reply_subject": "Hi"}, "email"),  # no email_id
        ("ghl", {"contactId": "c1"}, "call"),  # a call cannot be answered by message
        ("twilio", {}, "sms"),  # not a reply API
    ],
)
def test_a_message_without_what_its_reply_api_needs_raises_reply_not_possible(provider, payload, channel):
    stored = record(provider, payload, channel=channel, sender="lead@x.com")
    with pytest.raises(ReplyNotPossible):
        reply_request(stored, draft("lead@x.com"))


def test_an_sms_send_request_keeps_its_old_shape():
    request = SendRequest(
        send_key="k", provider="twilio", sender="+14155559876", recipient="+14155550123", body="Hi"
    )

    assert request.model_dump(exclude_none=True) == {
        "send_key": "k",
        "provider": "twilio",
        "sender": "+14155559876",
        "recipient": "+14155550123",
        "body": "Hi",
        "channel": "sms",
        "purpose": "operator",
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"provider": "twilio", "recipient": "lead@x.com"},  # not E.164 on SMS
        {"provider": "twilio", "body": "x" * 1601},  # over an SMS's length
        {
            "provider": "instantly",
            "channel": "email",
            "recipient": "lead@x.com",
            "thread": {"reply_to_uuid": "u", "eaccount": "me@x.com"},
        },  # no subject
        {
            "provider": "smartlead",
            "channel": "email",
            "recipient": "lead@x.com",
            "thread": {"campaign_id": "1"},
        },  # thread incomplete
        {"provider": "unipile", "channel": "sms", "thread": {"chat_id": "c"}},  # Unipile sends no SMS
    ],
)
def test_a_send_request_the_provider_cannot_send_is_refused(changes):
    fields = {"send_key": "k", "sender": "me", "recipient": "+14155550123", "body": "Hi", **changes}
    with pytest.raises(ValueError):
        SendRequest(**fields)


def answer(status: int, payload: Any = None, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(payload).encode() if payload is not None else b""
    response.headers.update(headers)
    return response


@pytest.mark.parametrize(
    ("module", "request_of", "response", "raised", "code"),
    [
        (
            ghl_send,
            ghl_sms,
            answer(
                401,
                {
                    "statusCode": 401,
                    "message": "Invalid token: access token is invalid",
                    "error": "Unauthorized",
                },
            ),
            SendRejected,
            "401",
        ),
        (
            ghl_send,
            ghl_sms,
            answer(500, {"statusCode": 500, "message": "Internal server error"}),
            SendRejected,
            "500",
        ),
        (ghl_send, ghl_sms, answer(503, {"statusCode": 503}), SendUnavailable, None),
        (smartlead_send, smartlead_reply, answer(400, {"error": "Invalid campaign id"}), SendRejected, "400"),
        (smartlead_send, smartlead_reply, answer(503, {"error": {"code": "X"}}), SendUnavailable, None),
        (instantly_send, instantly_reply, answer(200, {"message_id": "<m@x>"}), SendAmbiguous, None),
        (
            unipile_send,
            unipile_reply,
            answer(404, {"type": "errors/resource_not_found", "status": 404}),
            SendRejected,
            "404",
        ),
        (unipile_send, unipile_reply, answer(504, {"type": "errors/request_timeout"}), SendAmbiguous, None),
    ],
)
def test_each_answer_is_sorted_as_the_reference_says(module, request_of, response, raised, code, monkeypatch):
    monkeypatch.setattr(reply_http, "post", lambda call: response)

    with pytest.raises(raised) as caught:
        module.send(request_of(), CREDENTIALS)

    if code is not None:
        assert caught.value.code == code


def test_a_429_carries_the_providers_retry_after_from_the_header_or_smartleads_body(monkeypatch):
    monkeypatch.setattr(reply_http, "post", lambda call: answer(429, {}, **{"Retry-After": "45"}))
    with pytest.raises(SendUnavailable) as header:
        instantly_send.send(instantly_reply(), CREDENTIALS)
    body = {"error": {"code": "RATE_LIMIT_EXCEEDED", "retry_after": 30}}
    monkeypatch.setattr(reply_http, "post", lambda call: answer(429, body))
    with pytest.raises(SendUnavailable) as in_body:
        smartlead_send.send(smartlead_reply(), CREDENTIALS)

    assert (header.value.retry_after, in_body.value.retry_after) == (45.0, 30.0)


def test_the_providers_reason_names_the_code_of_either_error_shape():
    shapes: list[dict[str, Any]] = [
        {"error": {"code": "VALIDATION_ERROR", "message": "bad id"}},
        {"type": "errors/x", "detail": "gone"},
    ]

    assert [reply_http.reason(shape, answer(400)) for shape in shapes] == [
        "VALIDATION_ERROR; bad id",
        "errors/x; gone",
    ]
