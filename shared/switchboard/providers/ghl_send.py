"""GoHighLevel's Conversations API, send message (outbound-apis.md section 1): a reply in the contact's
one conversation, as SMS / WhatsApp text or as an e-mail in the answered e-mail's thread.

Auth is a Sub-Account token (Bearer, scope conversations/message.write) from the WebhookSecrets "ghl"
section's `access_token`; `Version` is pinned to the v2 spec's only value. GHL answers 500 for wrong
ids or a bad token on sibling endpoints, so a 500 is final here, never retried into a second send.
"""

from __future__ import annotations

from typing import Any

from switchboard.models.outbound import SendRequest
from switchboard.providers import reply_http
from switchboard.providers.outbound import SendAmbiguous, Sent

DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"
API_VERSION = "2021-04-15"
PATH = "/conversations/messages"
TOKEN_FIELD = "access_token"  # noqa: S105 - the secret's field name, not a value


def build(
    request: SendRequest, credentials: dict[str, Any], base_url: str | None = None
) -> reply_http.ReplyCall:
    token = reply_http.credential(credentials, TOKEN_FIELD, "ghl")
    thread = request.thread or {}
    body: dict[str, Any] = {"type": thread["type"], "contactId": thread["contactId"]}
    if thread["type"] == "Email":
        body.update(
            subject=request.subject or "Re:",
            html=reply_http.text_as_html(request.body),
            emailTo=request.recipient,
        )
        # threading: the answered e-mail's thread and message, when the webhook named them
        body.update({name: thread[name] for name in ("threadId", "replyMessageId") if thread.get(name)})
    else:
        body["message"] = request.body
    return reply_http.ReplyCall(
        url=reply_http.api_url(base_url, DEFAULT_BASE_URL, PATH),
        headers={"Authorization": f"Bearer {token}", "Version": API_VERSION, "Accept": "application/json"},
        json=body,
    )


def _meaning(status: int) -> reply_http.Meaning:
    return "unavailable" if status in (502, 503, 504) else "rejected"


def send(request: SendRequest, credentials: dict[str, Any], *, base_url: str | None = None) -> Sent:
    response = reply_http.post(build(request, credentials, base_url))
    payload = reply_http.answer_json(response)
    reply_http.raise_for_answer("GHL", response, _meaning, payload)
    message_id = payload.get("messageId") or next(iter(payload.get("messageIds") or []), None)
    if not message_id:
        raise SendAmbiguous("GHL accepted the message but its answer had no messageId")
    return Sent(provider_message_id=str(message_id), status=str(payload.get("status") or "pending"))
