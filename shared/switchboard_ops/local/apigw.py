"""Builds API Gateway HTTP API (payload format 2.0) events, as the local stack, events/ and benches need."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import urlsplit


def http_api_event(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    method: str = "POST",
    route_key: str = "POST /webhooks/{provider+}",
    source_ip: str = "127.0.0.1",
    now: float | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The event API Gateway hands IngestFunction for a request to `url` (scheme and host become headers)."""
    parts = urlsplit(url)
    now = time.time() if now is None else now
    lowered = {key.lower(): value for key, value in headers.items()}
    lowered.setdefault("host", parts.netloc)
    lowered.setdefault("x-forwarded-proto", parts.scheme)
    lowered.setdefault("content-length", str(len(body)))
    path = parts.path or "/"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": parts.netloc.split(":")[0],
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id or uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if path.startswith("/webhooks/"):
        event["pathParameters"] = {"provider": path[len("/webhooks/") :]}
    if parts.query:
        event["queryStringParameters"] = {
            key: value for key, _, value in (pair.partition("=") for pair in parts.query.split("&"))
        }
    try:
        event["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    return event
