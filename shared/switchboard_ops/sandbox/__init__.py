"""The sandbox provider: a local HTTP server speaking the subset of Twilio's and OpenPhone's REST APIs
that Switchboard calls (send, list with paging, 429 rate limits, injectable faults), which delivers
properly signed inbound webhooks and status callbacks to Switchboard's API, and can drop a share of
them so reconciliation has something real to find.

    with Sandbox("http://127.0.0.1:3000", port=3001) as sandbox:
        sandbox.inbound("twilio", "+14155550123", "+14155559876", "Hello")

or standalone: `python -m switchboard_ops.sandbox --port 3001 --api-url http://127.0.0.1:3000`.

The sandbox owns SANDBOX_NUMBER_A and SANDBOX_NUMBER_B at both providers (config twilio_numbers,
openphone_numbers): a message sent to a number it owns is delivered back as that number's inbound
message and signed webhook (subject to drop_rate), which is how the health check's canary comes home.
"""

from switchboard_ops.sandbox.config import (
    DEFAULT_OPENPHONE_API_KEY,
    DEFAULT_OPENPHONE_NUMBERS,
    DEFAULT_TWILIO_ACCOUNT_SID,
    DEFAULT_TWILIO_NUMBERS,
    SANDBOX_NUMBER_A,
    SANDBOX_NUMBER_B,
    SandboxConfig,
)
from switchboard_ops.sandbox.faults import FaultRule
from switchboard_ops.sandbox.server import Sandbox

__all__ = [
    "DEFAULT_OPENPHONE_API_KEY",
    "DEFAULT_OPENPHONE_NUMBERS",
    "DEFAULT_TWILIO_ACCOUNT_SID",
    "DEFAULT_TWILIO_NUMBERS",
    "SANDBOX_NUMBER_A",
    "SANDBOX_NUMBER_B",
    "FaultRule",
    "Sandbox",
    "SandboxConfig",
]
