"""The sandbox's reply APIs driven without a socket: auth checks, recorded replies, faults in the
provider's own error shape."""

from __future__ import annotations

import json

from switchboard_ops.sandbox.core import Context
from switchboard_ops.sandbox.faults import FaultRule
from switchboard_ops.sandbox.reply_apis import RETRY_AFTER_SECONDS, api_key
from switchboard_ops.sandbox.server import SandboxApp
from switchboard_ops.sandbox.wire import Request

SMARTLEAD_PATH = "/api/v1/campaigns/1204577/reply-email-thread"
SMARTLEAD_BODY = {
    "email_stats_id": "s1",
    "email_body": "<p>Hi</p>",
    "reply_message_id": "<m@x>",
    "reply_email_time": "2026-11-25T08:00:00Z",
    "reply_email_body": "Yes",
}


def post(app: SandboxApp, target: str, body: bytes, **headers: str) -> tuple[int, dict, dict]:
    response = app.handle(Request.build("POST", target, headers, body))
    return response.status, json.loads(response.body or b"{}"), dict(response.headers)


def test_smartlead_without_a_key_gets_its_401_and_nothing_is_recorded(app: SandboxApp, ctx: Context):
    status, payload, _ = post(app, SMARTLEAD_PATH, json.dumps(SMARTLEAD_BODY).encode())

    assert (status, payload) == (401, {"message": "API key is required."})
    assert ctx.store.replies() == []


def test_a_smartlead_reply_with_the_key_is_recorded_in_its_thread(app: SandboxApp, ctx: Context):
    target = f"{SMARTLEAD_PATH}?api_key={api_key(ctx, 'smartlead')}"
    status, payload, _ = post(app, target, json.dumps(SMARTLEAD_BODY).encode())

    assert (status, payload["success"]) == (200, True)
    [reply] = ctx.store.replies("smartlead")
    assert reply["thread"] == {"campaign_id": "1204577", "email_stats_id": "s1"}


def test_unipile_reads_its_multipart_body(app: SandboxApp, ctx: Context):
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nHello there\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    status, payload, _ = post(
        app,
        "/api/v1/chats/chat9/messages",
        body,
        **{"X-API-KEY": api_key(ctx, "unipile"), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert (status, payload["object"]) == (201, "MessageSent")
    assert ctx.store.replies("unipile")[0]["request"] == {"text": "Hello there"}


def test_ghl_needs_its_version_header(app: SandboxApp, ctx: Context):
    body = json.dumps({"type": "SMS", "contactId": "c1", "message": "Hi"}).encode()
    status, payload, _ = post(
        app, "/conversations/messages", body, Authorization=f"Bearer {api_key(ctx, 'ghl')}"
    )

    assert (status, payload["statusCode"]) == (400, 400)


def test_a_rate_limit_fault_answers_429_with_retry_after_in_the_providers_shape(
    app: SandboxApp, ctx: Context
):
    ctx.faults.add(FaultRule(path="/api/v2/emails/reply", status=429))

    status, payload, headers = post(app, "/api/v2/emails/reply", b"{}")

    assert (status, payload["statusCode"], headers["Retry-After"]) == (429, 429, str(RETRY_AFTER_SECONDS))
