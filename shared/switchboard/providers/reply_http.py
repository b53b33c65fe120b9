"""What the four reply clients (GHL, SmartLead, Instantly, Unipile) share: one POST with timeouts, the
provider's answer sorted into Sent / SendRejected / SendUnavailable / SendAmbiguous by one table each.

Each client builds a `ReplyCall` (pure, known-answer tested against outbound-apis.md) and names, per
HTTP status, what the answer means: a table rather than code, so the four stay alike.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from switchboard.providers.outbound import (
    SendAmbiguous,
    SendRejected,
    SendUnavailable,
    classify_transport_error,
    http_session,
)
from switchboard.retry import parse_retry_after

TIMEOUT = (3.05, 10)  # connect, read (seconds): a silent provider must not hold the sender
Meaning = Literal["rejected", "unavailable", "ambiguous"]


def credential(credentials: Mapping[str, Any], name: str, section: str) -> str:
    """The secret the client authenticates with; a missing one is a permanent rejection, never a send."""
    value = credentials.get(name)
    if not isinstance(value, str) or not value:
        raise SendRejected("not_configured", f"the WebhookSecrets {section} section has no {name}")
    return value


def api_url(base_url: str | None, default: str, path: str) -> str:
    return f"{(base_url or default).rstrip('/')}{path}"


def server_errors_retry(status: int) -> Meaning:
    """Every 5xx may pass (retry it); every 4xx is about the request itself."""
    return "unavailable" if status >= 500 else "rejected"


@dataclass(frozen=True)
class ReplyCall:
    """One reply request exactly as it goes on the wire (no socket: tests compare it with the reference)."""

    url: str
    headers: dict[str, str]
    json: dict[str, Any] | None = None
    multipart: dict[str, str] | None = None  # form fields sent as multipart/form-data
    params: dict[str, str] = field(default_factory=dict)  # query string (SmartLead's api_key)


def post(call: ReplyCall) -> Any:
    """The provider's answer; a transport failure is SendUnavailable (not sent) or SendAmbiguous."""
    import requests

    files = {name: (None, value) for name, value in (call.multipart or {}).items()} or None
    try:
        return http_session().post(
            call.url,
            headers=call.headers,
            json=call.json,
            files=files,
            params=call.params or None,
            timeout=TIMEOUT,
        )
    except requests.exceptions.RequestException as exc:
        # no URL in the message: SmartLead's carries the key
        raise classify_transport_error(exc) from None


def answer_json(response: Any) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def reason(payload: Mapping[str, Any], response: Any) -> str:
    """The provider's own words from any of the error shapes the reference lists, else the status."""
    error = payload.get("error")
    if isinstance(error, dict):
        parts = [error.get("code"), error.get("message")]
    else:
        parts = [payload.get("type"), payload.get("detail"), error, payload.get("message")]
    words = "; ".join(str(part) for part in parts if part not in (None, "", []))
    return (words or getattr(response, "reason", "") or "no reason given")[:300]


def retry_after(response: Any, payload: Mapping[str, Any]) -> float | None:
    """Seconds from the Retry-After header, else a body's `error.retry_after` (SmartLead's guide)."""
    waited = parse_retry_after(response.headers.get("Retry-After"), time.time())
    if waited is not None:
        return max(0.0, waited)
    error = payload.get("error")
    value = error.get("retry_after") if isinstance(error, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def raise_for_answer(
    provider: str, response: Any, meanings: Callable[[int], Meaning], payload: Mapping[str, Any]
) -> None:
    """Raise what a non-2xx answer means; return quietly on 2xx."""
    status = int(response.status_code)
    if 200 <= status < 300:
        return
    words = reason(payload, response)
    meaning = "unavailable" if status == 429 else meanings(status)
    if meaning == "unavailable":
        raise SendUnavailable(
            f"{provider} answered {status}: {words}", retry_after=retry_after(response, payload)
        )
    if meaning == "ambiguous":
        raise SendAmbiguous(f"{provider} answered {status}: {words}")
    raise SendRejected(str(status), f"{provider}: {words}")


def text_as_html(text: str) -> str:
    """A plain-text draft as minimal HTML for the e-mail APIs that take HTML: escaped, lines kept."""
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"
