"""API Gateway HTTP API (payload v2) events in, JSON responses out; domain errors map to statuses here."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from switchboard.errors import DependencyUnavailable, MalformedPayload, WebhookRejected
from switchboard.webhook_request import WebhookRequest

_WEBHOOKS = "/webhooks/"


def public_url(event: dict[str, Any], public_base_url: str = "") -> str:
    """The URL exactly as the provider called it, for URL-signing providers (Twilio).

    API Gateway stages and custom-domain base paths sit before /webhooks/; PUBLIC_BASE_URL replaces
    everything before it. Without one, scheme and host come from X-Forwarded-Proto and Host.
    """
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    path = event.get("rawPath") or "/"
    if public_base_url:
        start = path.find(_WEBHOOKS)
        path = path[start:] if start >= 0 else path
        base = public_base_url.rstrip("/")
    else:
        scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
        host = headers.get("host") or event.get("requestContext", {}).get("domainName", "localhost")
        base = f"{scheme}://{host}"
    query = event.get("rawQueryString") or ""
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def route_name(event: dict[str, Any]) -> str:
    """`twilio/status` for /webhooks/twilio/status (the route's greedy {provider+} parameter)."""
    provider = (event.get("pathParameters") or {}).get("provider")
    if provider:
        return str(provider).strip("/")
    path = event.get("rawPath") or ""
    start = path.find(_WEBHOOKS)
    return path[start + len(_WEBHOOKS) :].strip("/") if start >= 0 else ""


def request_from_event(event: dict[str, Any], public_base_url: str = "") -> WebhookRequest:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedPayload("body is not valid base64") from exc
    else:
        body = raw.encode("utf-8")
    return WebhookRequest(
        route=route_name(event),
        url=public_url(event, public_base_url),
        body=body,
        headers={key.lower(): value for key, value in (event.get("headers") or {}).items()},
        method=(event.get("requestContext", {}).get("http", {}).get("method") or "POST").upper(),
    )


def json_response(status_code: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status_code,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload, separators=(",", ":")),
    }


def error_response(error: Exception) -> dict[str, Any]:
    """The one place errors become statuses: 4xx for bad input, 503 for AWS trouble, never a trace."""
    if isinstance(error, WebhookRejected):
        return json_response(error.status_code, {"error": error.error, "detail": error.detail})
    if isinstance(error, DependencyUnavailable):
        return json_response(503, {"error": "temporarily_unavailable", "detail": "retry later"})
    return json_response(500, {"error": "internal_error", "detail": "retry later"})
