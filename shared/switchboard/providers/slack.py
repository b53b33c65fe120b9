"""Slack incoming webhooks (outbound-apis.md, Slack): POST {"text"} to the hook's URL; "ok" on 200.

429 (with Retry-After) and 5xx / connection errors are retried in place (retry.SLACK_WEBHOOKS, through
the listing clients' Pacing); anything else fails at once with Slack's error text (invalid_payload,
no_service, channel_is_archived...). Failures are typed: SlackFailed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from switchboard.providers.listing import ListUnavailable, Pacing, RetryableStatus, response_header
from switchboard.retry import SLACK_WEBHOOKS, is_retryable_status


class SlackFailed(Exception):
    """The notice was not delivered (its reason in the message)."""


def post_message(
    url: str,
    text: str,
    *,
    timeout_seconds: float = 5.0,
    sleep: Callable[[float], None] | None = None,
    session: Any = None,
) -> None:
    http = session or requests

    def attempt() -> None:
        try:
            response = http.post(url, json={"text": text}, timeout=timeout_seconds)
        except requests.RequestException as exc:
            raise ConnectionError(type(exc).__name__) from exc
        if is_retryable_status(response.status_code):
            raise RetryableStatus(response.status_code, response_header(response, "Retry-After"))
        if response.status_code != 200:
            raise SlackFailed(f"Slack answered {response.status_code}: {response.text[:100]}")

    pacing = Pacing(policy=SLACK_WEBHOOKS, sleep=sleep or time.sleep)
    try:
        pacing.call(attempt)
    except ListUnavailable as exc:
        raise SlackFailed(str(exc)) from exc
