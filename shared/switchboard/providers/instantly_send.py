"""Instantly API v2, reply to an email (outbound-apis.md section 3): answers the lead's e-mail by its id.

Bearer key from the WebhookSecrets "instantly" section's `api_key` (scope emails:create); the answer is
the sent reply's Email object, whose `id` is the new e-mail.
"""

from __future__ import annotations

from typing import Any

from switchboard.models.outbound import SendRequest
from switchboard.providers import reply_http
from switchboard.providers.outbound import SendAmbiguous, Sent

DEFAULT_BASE_URL = "https://api.instantly.ai"
PATH = "/api/v2/emails/reply"
KEY_FIELD = "api_key"


def build(
    request: SendRequest, credentials: dict[str, Any], base_url: str | None = None
) -> reply_http.ReplyCall:
    key = reply_http.credential(credentials, KEY_FIELD, "instantly")
    thread = request.thread or {}
    return reply_http.ReplyCall(
        url=reply_http.api_url(base_url, DEFAULT_BASE_URL, PATH),
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
        json={
            "eaccount": thread["eaccount"],
            "reply_to_uuid": thread["reply_to_uuid"],
            "subject": request.subject,
            "body": {"text": request.body},
        },
    )


_meaning = reply_http.server_errors_retry


def send(request: SendRequest, credentials: dict[str, Any], *, base_url: str | None = None) -> Sent:
    response = reply_http.post(build(request, credentials, base_url))
    payload = reply_http.answer_json(response)
    reply_http.raise_for_answer("Instantly", response, _meaning, payload)
    if not payload.get("id"):
        raise SendAmbiguous("Instantly accepted the reply but its answer had no id")
    return Sent(provider_message_id=str(payload["id"]), status="sent")
