"""`switchboard send` on the local stack: the request goes through OutboundQueue and SenderFunction to the
sandbox provider's Twilio API (the real twilio SDK), status callbacks come back through ingest and the
worker merges them; a number that texted STOP is never sent to."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

WITHIN = 20  # seconds: the sender's poll, the send, the callbacks and the worker, with slack


def customer_number() -> str:
    """A number no other test uses (the samples' customer +14155550123 texts STOP in test_processing)."""
    return f"+1415555{random.randint(2000, 9999)}"  # noqa: S311 - not a secret


def send(stack: Any, to: str, body: str) -> tuple[int, dict[str, Any]]:
    result = stack.cli("send", "--to", to, "--body", body, "--wait", "--timeout", str(WITHIN), "--json")
    assert result.returncode in (0, 1), f"{result.returncode}: {result.stderr}\n{stack.log()[-3000:]}"
    return result.returncode, json.loads(result.stdout)


def poll(fetch: Any, done: Any, what: str, timeout: float = WITHIN) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what}: not after {timeout} s (last: {value})"
        time.sleep(0.3)


def sandbox_message(stack: Any, message_id: str) -> dict[str, Any] | None:
    messages = stack.sandbox("GET", "/sandbox/messages?provider=twilio")["messages"]
    return next((message for message in messages if message["id"] == message_id), None)


def test_a_send_is_sent_once_and_its_delivery_comes_back(live_stack):
    to = customer_number()

    # When an operator sends a message and waits
    code, sent = send(live_stack, to, "hi")

    # Then it is SENT, with the provider's id
    assert (code, sent["state"], sent["attempts"]) == (0, "SENT", 1), sent
    sid = sent["provider_message_id"]
    assert sid.startswith("SM")

    # And the sandbox provider has it, from the sandbox's number, and delivers it
    message = poll(
        lambda: sandbox_message(live_stack, sid),
        lambda found: found is not None and found["status"] == "delivered",
        "the sandbox's message delivered",
    )
    assert (message["direction"], message["from"], message["to"], message["body"]) == (
        "outbound",
        live_stack.state["canary"]["from"],
        [to],
        "hi",
    )

    # And its status callbacks (sent, delivered) reached Switchboard's API, signed and accepted
    deliveries = poll(
        lambda: [
            d
            for d in live_stack.sandbox("GET", "/sandbox/deliveries")["deliveries"]
            if d["message_id"] == sid
        ],
        lambda found: len(found) == 2,
        "both status callbacks",
    )
    assert [(d["kind"], d["ok"], d["status"]) for d in deliveries] == [
        ("twilio.status.sent", True, 200),
        ("twilio.status.delivered", True, 200),
    ]
    assert all(d["url"].startswith(f"{live_stack.api_url}/webhooks/twilio/status") for d in deliveries)

    # And the worker merged them: `messages get` shows the stored outbound message delivered
    found = live_stack.wait_for_message(
        "twilio", sid, lambda item: item["delivery_status"] == "delivered", timeout=WITHIN, what="delivered"
    )
    assert found["message"]["direction"] == "outbound" and found["message"]["recipient"] == to


def test_a_number_that_texted_stop_is_not_sent_to(live_stack):
    business = live_stack.state["canary"]["from"]  # `send`'s default --from locally
    to = customer_number()

    # Given the number texts STOP to the business number (through the sandbox: a signed inbound webhook)
    stop = live_stack.sandbox(
        "POST", "/sandbox/inbound", {"provider": "twilio", "from": to, "to": business, "body": "STOP"}
    )
    assert stop["delivered"] is True, stop
    # ... and the worker put it on the suppression list. The suppression is written before the job's
    # annotations (consent) are, so wait for the job to finish, not only for the suppression.
    found = live_stack.wait_for_message(
        "twilio",
        stop["sid"],
        lambda item: item["suppressed"] is True and item["job_state"] == "PROCESSED",
        timeout=WITHIN,
        what="suppressed and PROCESSED",
    )
    assert found["consent"] == "opt_out"

    # When an operator sends to it
    code, result = send(live_stack, to, "Are you still there?")

    # Then Switchboard suppresses the send itself: nothing reaches the provider
    assert (code, result["state"], result["provider_message_id"]) == (1, "SUPPRESSED", None), result
    sent_to_it = [
        m for m in live_stack.sandbox("GET", "/sandbox/messages")["messages"] if m["direction"] == "outbound"
    ]
    assert all(to not in message["to"] for message in sent_to_it)


def test_a_provider_refusal_21610_suppresses_the_number_for_the_next_send(live_stack):
    business = live_stack.state["canary"]["from"]
    to = customer_number()

    # Given the provider knows the number opted out (Switchboard does not yet)
    live_stack.sandbox("POST", "/sandbox/opt-outs", {"from": business, "to": to})

    # When a message is sent to it, the provider refuses it with 21610
    code, first = send(live_stack, to, "Reminder: Tuesday 3pm")
    assert (code, first["state"], first["error_code"]) == (1, "SUPPRESSED", "21610"), first

    # And from then on Switchboard suppresses it without asking the provider
    code, second = send(live_stack, to, "Reminder: Tuesday 3pm")
    assert (code, second["state"]) == (1, "SUPPRESSED"), second
