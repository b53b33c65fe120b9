"""Signed Twilio inbound-SMS webhooks with fresh MessageSids, from events/ingest/twilio_inbound_sms.json.

Light on imports: the memory benchmark's child process uses it, and everything it loads is counted.
"""

from __future__ import annotations

import copy
import time
import uuid
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlencode

SAMPLE_EVENT = "ingest/twilio_inbound_sms"
_SID_FIELDS = ("MessageSid", "SmsMessageSid", "SmsSid")


@cache
def _sample() -> dict[str, Any]:
    from switchboard_ops.project import load_event

    return load_event(SAMPLE_EVENT)


def new_sid() -> str:
    return f"SM{uuid.uuid4().hex}"


def twilio_webhook(
    sid: str | None = None, *, now: float | None = None, text: str | None = None
) -> dict[str, Any]:
    """The sample event with a new MessageSid (and, given `text`, that Body), re-signed with the local
    secret for the event's own URL."""
    from switchboard.http_api import public_url
    from switchboard.providers.twilio import signature_headers
    from switchboard_ops.local.secrets import LOCAL_SECRETS

    event = copy.deepcopy(_sample())
    params = parse_qs(event["body"], keep_blank_values=True)
    sid = sid or new_sid()
    for name in _SID_FIELDS:
        if name in params:
            params[name] = [sid]
    if text is not None:
        params["Body"] = [text]
    body = urlencode(params, doseq=True)
    headers = event["headers"]
    headers["content-length"] = str(len(body.encode()))
    headers.update(
        signature_headers(
            public_url(event), body.encode(), LOCAL_SECRETS["twilio"], time.time() if now is None else now
        )
    )
    event["body"] = body
    event["requestContext"]["requestId"] = uuid.uuid4().hex
    return event


def message_sid(event: dict[str, Any]) -> str:
    return parse_qs(event["body"])["MessageSid"][0]
