"""`POST /sandbox/calendar`: the sandbox plays a calendar provider. It signs a booking the way Cal.com,
Calendly or Switchboard's own calendar scheme would (local/signing.py, as the e2e tests and `switchboard
local curl` do) and posts it to the stack's /webhooks/<kind>, so a developer can create, move and cancel
bookings without signing anything by hand."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from switchboard_ops.local.secrets import LOCAL_SECRETS
from switchboard_ops.local.signing import signed_headers
from switchboard_ops.sandbox.delivery import Webhook
from switchboard_ops.sandbox.wire import HttpError

KINDS = ("calcom", "calendly", "calendar")
CONTENT_TYPE = "application/json"


def bad_request(detail: str) -> HttpError:
    return HttpError(400, {"error": "bad_request", "detail": detail})


def calendar_webhook(
    api_url: str, kind: str, event: Mapping[str, Any], secrets: Mapping[str, Any]
) -> Webhook:
    """The provider's webhook for `event` (its own JSON body), signed at send time with `secrets`."""
    body = json.dumps(event, separators=(",", ":")).encode()
    known = {**LOCAL_SECRETS, **{name: dict(value) for name, value in secrets.items()}}

    def sign(url: str, signed_body: bytes) -> dict[str, str]:
        headers = signed_headers(kind, url, signed_body, CONTENT_TYPE, secrets=known, now=time.time())
        return {name: value for name, value in headers.items() if name.lower() != "content-type"}

    return Webhook(
        kind=f"{kind}.booking",
        url=f"{api_url.rstrip('/')}/webhooks/{kind}",
        body=body,
        content_type=CONTENT_TYPE,
        sign=sign,
        message_id=str(event.get("id") or event.get("uid") or ""),
    )


def parse(payload: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    kind, event = payload.get("kind"), payload.get("event")
    if kind not in KINDS:
        raise bad_request(f"'kind' must be one of {', '.join(KINDS)}")
    if not isinstance(event, dict) or not event:
        raise bad_request("'event' must be the provider's webhook body, a non-empty JSON object")
    return str(kind), event
