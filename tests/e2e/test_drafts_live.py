"""Seed 003's loop on the local stack with auto-send on for Twilio: a positive SMS reply becomes a two-step
LLM draft, approved by policy, sent once through the sender to the sandbox's Twilio API, and one masked
hot-lead notice reaches the sandbox's Slack hook."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard_ops.local.samples import load_sample, with_changes

pytestmark = pytest.mark.e2e

CONTACT = "+14155550123"
WITHIN = 20  # seconds: the worker, then the sender's poll, on a 60x clock


def wait_for(probe: Callable[[], Any], what: str, stack: Any) -> Any:
    deadline = time.monotonic() + WITHIN
    while not (found := probe()):
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {WITHIN} s\n{stack.log()[-4000:]}")
        time.sleep(0.5)
    return found


def test_a_positive_sms_is_answered_once_and_the_hot_lead_posted(stack_launcher: Any, state_dir: Path):
    # Given the local stack with auto-send on for Twilio
    stack = stack_launcher(
        state_dir, "--time-scale", "60", "--schedules", "off", "--env", "AUTO_SEND_PROVIDERS=twilio"
    )
    sample = with_changes(
        load_sample("twilio_inbound_sms"), new_id=True
    )  # "Yes, Tuesday at 3pm works for me"
    # When a positive reply arrives
    response = stack.post(sample)
    assert response.status_code == 200, response.text
    message_id = response.json()["provider_message_id"]
    draft_id = f"EVT#twilio#{message_id}"

    # Then the sandbox's Twilio API receives the drafted reply, once
    def replies() -> list[dict[str, Any]]:
        sent = stack.sandbox("GET", "/sandbox/messages?provider=twilio")["messages"]
        return [m for m in sent if m["direction"] == "outbound" and m["to"] == [CONTACT]]

    [reply] = wait_for(replies, "reply at the sandbox", stack)

    # And the draft, approved by policy, ends sent (the sender moves it once the provider accepted it)
    def sent_drafts() -> list[dict[str, Any]]:
        drafts = stack.cli_json("drafts", "list", "--json")
        return [d for d in drafts if d["pk"] == draft_id and d["status"] == "sent"]

    [draft] = wait_for(sent_drafts, "the draft marked sent", stack)
    assert (draft["variant"], draft["approved_by"]) == ("llm", "auto")
    assert reply["body"] == draft["text"]
    # And Slack got one notice naming the intent and the draft, the number masked
    [notice] = stack.sandbox("GET", "/sandbox/slack")["messages"]
    assert draft_id in notice and CONTACT not in notice
