"""The health check's canary token, as it travels in a message body (ingest and the health check)."""

from __future__ import annotations

import re
import secrets

_CANARY = re.compile(r"SWB-CANARY-(\d{10}-[0-9a-f]{8})")


def canary_token(body: str) -> str | None:
    """The check's token when a message body is a Switchboard canary."""
    match = _CANARY.search(body)
    return match.group(1) if match else None


def new_token(now: float) -> str:
    # Zero-padded start time first: tokens sort by time, so the history is one range query.
    return f"{int(now):010d}-{secrets.token_hex(4)}"


def canary_body(token: str) -> str:
    return f"Switchboard health check SWB-CANARY-{token}"
