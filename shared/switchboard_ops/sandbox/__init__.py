"""The sandbox provider: a local HTTP server speaking the subset of Twilio's and OpenPhone's REST APIs
that Switchboard calls (send, list with paging, 429 rate limits, injectable faults), which delivers
properly signed inbound webhooks and status callbacks to Switchboard's API, and can drop a share of
them so reconciliation has something real to find.

    with Sandbox("http://127.0.0.1:3000", port=3001) as sandbox:
        sandbox.inbound("twilio", "+14155550123", "+14155559876", "Hello")

or standalone: `python -m switchboard_ops.sandbox --port 3001 --api-url http://127.0.0.1:3000`.
"""

from switchboard_ops.sandbox.config import (
    DEFAULT_OPENPHONE_API_KEY,
    DEFAULT_OPENPHONE_NUMBERS,
    DEFAULT_TWILIO_ACCOUNT_SID,
    SandboxConfig,
)
from switchboard_ops.sandbox.faults import FaultRule
from switchboard_ops.sandbox.server import Sandbox

__all__ = [
    "DEFAULT_OPENPHONE_API_KEY",
    "DEFAULT_OPENPHONE_NUMBERS",
    "DEFAULT_TWILIO_ACCOUNT_SID",
    "FaultRule",
    "Sandbox",
    "SandboxConfig",
]
