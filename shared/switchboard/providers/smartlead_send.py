"""SmartLead's reply-email-thread (outbound-apis.md section 2): a reply in the lead's campaign thread.

The key travels as `?api_key=` (WebhookSecrets "smartlead" section, `api_key`), so no URL is ever logged.
All five body fields are sent: the legacy docs require the three `reply_*` fields the new docs dropped.
SmartLead queues the reply and returns no id; the sent e-mail shows up later in the lead's history.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from switchboard.models.outbound import SendRequest
from switchboard.providers import reply_http
from switchboard.providers.outbound import Sent

DEFAULT_BASE_URL = "https://server.smartlead.ai"
KEY_FIELD = "api_key"
QUEUED = "queued"


def build(
    request: SendRequest, credentials: dict[str, Any], base_url: str | None = None
) -> reply_http.ReplyCall:
    key = reply_http.credential(credentials, KEY_FIELD, "smartlead")
    thread = request.thread or {}
    campaign = quote(thread["campaign_id"], safe="")
    return reply_http.ReplyCall(
        url=reply_http.api_url(
            base_url, DEFAULT_BASE_URL, f"/api/v1/campaigns/{campaign}/reply-email-thread"
        ),
        headers={"Accept": "application/json"},
        params={"api_key": key},
        json={
            "email_stats_id": thread["email_stats_id"],
            "email_body": reply_http.text_as_html(request.body),
            "reply_message_id": thread["reply_message_id"],
            "reply_email_time": thread["reply_email_time"],
            "reply_email_body": thread["reply_email_body"],
        },
    )


# the error guide lists 500 and 503 as errors to retry; every 4xx is about the request itself
_meaning = reply_http.server_errors_retry


def send(request: SendRequest, credentials: dict[str, Any], *, base_url: str | None = None) -> Sent:
    response = reply_http.post(build(request, credentials, base_url))
    reply_http.raise_for_answer("SmartLead", response, _meaning, reply_http.answer_json(response))
    return Sent(provider_message_id="", status=QUEUED)  # no id comes back: the reply is queued
