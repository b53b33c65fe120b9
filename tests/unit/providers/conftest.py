"""One way to build a provider test's webhook: the request ingest hands a provider, its parse through the
route registry, and its verify-then-parse (what an accepted webhook becomes).

Provider test files import these helpers with `from providers.conftest import ...` (this directory is a
package so that the import names this file, not another conftest)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest

from switchboard.errors import WebhookRejected
from switchboard.models import Event, Message
from switchboard.providers import ROUTES
from switchboard.webhook_request import FORM, JSON, WebhookRequest


def body_of(payload: dict[str, Any] | list[Any]) -> bytes:
    """A JSON payload as a provider sends it: compact, so signatures over the raw body match."""
    return json.dumps(payload, separators=(",", ":")).encode()


def form_of(fields: dict[str, Any] | list[Any]) -> bytes:
    """Form fields as Twilio posts them (a list of pairs keeps repeated fields)."""
    return urlencode(fields).encode()


def webhook_request(
    route: str,
    body: bytes | dict[str, Any] | list[Any] = b"",
    headers: dict[str, str] | None = None,
    *,
    url: str | None = None,
    content_type: str = JSON,
    **named_headers: str,
) -> WebhookRequest:
    """The request for `route`; headers lowercased as switchboard.http_api stores them. Keyword headers
    spell dashes as underscores (`x_api_key="..."` is the `x-api-key` header). With `content_type=FORM`
    a dict or a list of pairs is form-encoded (repeated fields as pairs), otherwise JSON-encoded."""
    raw = body if isinstance(body, bytes) else form_of(body) if content_type == FORM else body_of(body)
    lowered = {"content-type": content_type} if content_type else {}
    lowered.update({name.lower(): value for name, value in (headers or {}).items()})
    lowered.update({name.replace("_", "-").lower(): value for name, value in named_headers.items()})
    return WebhookRequest(
        route=route, url=url or f"https://hooks.example.com/webhooks/{route}", body=raw, headers=lowered
    )


def parsed(
    route: str, payload: bytes | dict[str, Any] | list[Any], received_at: float, secrets: Any = None
) -> Event | None:
    """`payload` parsed by the route's parser, called the way ingest calls it (signature not checked)."""
    return ROUTES[route].parse(webhook_request(route, payload), received_at, secrets)


def parsed_message(
    route: str, payload: bytes | dict[str, Any] | list[Any], received_at: float, secrets: Any = None
) -> Message:
    """`parsed`, which must be a Message: None, a status update or a calendar event fails the test."""
    event = parsed(route, payload, received_at, secrets)
    assert isinstance(event, Message), event
    return event


def accepted(request: WebhookRequest, secrets: dict[str, Any], now: float) -> Event | None:
    """What ingest makes of `request` once verified: raises the provider's WebhookRejected otherwise."""
    binding = ROUTES[request.route].load()
    binding.module.verify(request, secrets, now)
    return binding.parse(request, now, secrets)


def assert_accepted(
    request: WebhookRequest,
    secrets: dict[str, Any],
    now: float,
    *,
    uncredentialed: WebhookRequest | None = None,
) -> None:
    """`request` passes its route's verify, and only because of its credentials: `uncredentialed` (by
    default the same request with no header but its content type) is rejected, so a verify that let
    everything through fails the test that calls this."""
    module = ROUTES[request.route].load().module
    module.verify(request, secrets, now)
    bare = uncredentialed or replace(
        request, headers={name: value for name, value in request.headers.items() if name == "content-type"}
    )
    with pytest.raises(WebhookRejected):
        module.verify(bare, secrets, now)


def without(payload: dict[str, Any], *names: str) -> dict[str, Any]:
    """`payload` missing the named fields."""
    return {key: value for key, value in payload.items() if key not in names}
