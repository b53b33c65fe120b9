"""Replies on the local stack: an e-mail reply classified by the sandbox's chat completions on its new
text, and the call visible in `switchboard ai usage` (issue #12, first half)."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard_ops.local.samples import load_sample, with_changes

pytestmark = pytest.mark.e2e

PROCESSED_WITHIN = 15


def test_an_instantly_reply_is_classified_by_the_model_and_its_cost_reported(live_stack: Any):
    # Given an Instantly reply whose text quotes the earlier thread
    calls_before = live_stack.cli_json("ai", "usage", "--days", "1")["by_feature"]
    before = calls_before.get("sentiment.classify", {}).get("calls", 0)
    response = live_stack.post(with_changes(load_sample("instantly_reply_received"), new_id=True))
    assert response.status_code == 200, response.text
    result = response.json()
    live_stack.jobs[(result["provider"], result["provider_message_id"])] = False

    # When the worker processes it
    found = live_stack.wait_for_message(
        result["provider"],
        result["provider_message_id"],
        lambda found: found["job_state"] == "PROCESSED",
        timeout=PROCESSED_WITHIN,
        what="PROCESSED",
    )

    # Then the model classified it (no fallback), and `ai usage` counts the call with its cost
    assert (found["intent"], found["classifier"], found["classifier_fallback"]) == (
        "Meeting Requested",
        "llm",
        None,
    )
    usage = live_stack.cli_json("ai", "usage", "--days", "1")
    classify = usage["by_feature"]["sentiment.classify"]
    assert classify["calls"] == before + 1 and classify["cost_usd"] > 0
    assert usage["by_model"]["gpt-4o-mini"]["input_tokens"] > 0
