"""Unipile, send a message in a chat (outbound-apis.md section 4): LinkedIn (or another connected
account) replies into the chat the message came from.

`X-API-KEY` from the WebhookSecrets "unipile" section's `api_key`; the base URL is the account's DSN
(UNIPILE_API_BASE_URL). The body is multipart/form-data, the only type the operation declares;
`account_id` stops a send into another account's chat. A 504 (request_timeout) means Unipile gave up
waiting for LinkedIn, which may still deliver: the outcome is unknown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from switchboard.models.outbound import SendRequest
from switchboard.providers import reply_http
from switchboard.providers.outbound import Sent

DEFAULT_BASE_URL = "https://api1.unipile.com:13111"
KEY_FIELD = "api_key"


def build(
    request: SendRequest, credentials: dict[str, Any], base_url: str | None = None
) -> reply_http.ReplyCall:
    key = reply_http.credential(credentials, KEY_FIELD, "unipile")
    thread = request.thread or {}
    fields = {"text": request.body}
    if thread.get("account_id"):
        fields["account_id"] = thread["account_id"]
    chat = quote(thread["chat_id"], safe="")
    return reply_http.ReplyCall(
        url=reply_http.api_url(base_url, DEFAULT_BASE_URL, f"/api/v1/chats/{chat}/messages"),
        headers={"X-API-KEY": key, "Accept": "application/json"},
        multipart=fields,
    )


def _meaning(status: int) -> reply_http.Meaning:
    if status == 504:
        return "ambiguous"
    return reply_http.server_errors_retry(status)


def send(request: SendRequest, credentials: dict[str, Any], *, base_url: str | None = None) -> Sent:
    response = reply_http.post(build(request, credentials, base_url))
    payload = reply_http.answer_json(response)
    reply_http.raise_for_answer("Unipile", response, _meaning, payload)
    # message_id may be null (the reference): sent, but with no id to store
    return Sent(provider_message_id=str(payload.get("message_id") or ""), status="sent")
