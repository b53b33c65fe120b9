"""The sandbox's LLM routes without a socket: dispatch, keyword intents, config knobs, error shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard_ops.sandbox.config import ConfigError
from switchboard_ops.sandbox.llm_api import DRAFT_TEXT, intent_for
from switchboard_ops.sandbox.server import SandboxApp
from switchboard_ops.sandbox.wire import Request

SCHEMA = {
    "type": "object",
    "properties": {
        "intent": {"type": "string", "enum": ["Interested", "Neutral"]},
        "confidence": {"type": "number"},
    },
}


def chat(
    app: SandboxApp, prompt: str, *, key: str = "local-llm-api-key", schema: Any = None
) -> tuple[int, Any]:
    body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    if schema:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "c", "schema": schema}}
    request = Request.build(
        "POST", "/v1/chat/completions", {"Authorization": f"Bearer {key}"}, json.dumps(body).encode()
    )
    response = app.handle(request)
    return response.status, json.loads(response.body)


def test_chat_completions_is_not_taken_for_openphones_v1_api(app):
    # Given OpenPhone's API also lives under /v1/ / When chat completions is called with the LLM key
    status, body = chat(app, "Sounds good")
    # Then the LLM route answered (OpenPhone would have refused the key with its own 401 shape)
    assert status == 200 and body["choices"][0]["message"]["content"] == DRAFT_TEXT


def test_a_schema_gets_the_keyword_intent_or_the_enums_first_value(app):
    _, yes = chat(app, "yes, interested", schema=SCHEMA)
    _, call = chat(app, "call me tuesday", schema=SCHEMA)  # Meeting Requested is not in this enum
    assert json.loads(yes["choices"][0]["message"]["content"]) == {"intent": "Interested", "confidence": 0.9}
    assert json.loads(call["choices"][0]["message"]["content"])["intent"] == "Interested"


def test_a_wrong_key_gets_openais_error_shape(app):
    status, body = chat(app, "hi", key="sk-nope")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"


def test_converse_without_sigv4_is_refused_with_an_amz_error_type(app):
    request = Request.build("POST", "/model/amazon.nova-micro-v1%3A0/converse", {}, b"{}")
    response = app.handle(request)
    assert response.status == 403
    assert dict(response.headers)["x-amzn-ErrorType"].startswith("AccessDeniedException")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Please remove me from your list", "Opt-out"),
        ("I'm out of the office until Monday", "Out of Office"),
        ("Not interested, thanks", "Not Interested"),
        ("Let's talk Tuesday", "Meeting Requested"),
        ("Yes please", "Interested"),
        ("Who is this?", "Neutral"),
    ],
)
def test_keyword_intents_are_deterministic(text, intent):
    assert intent_for(text) == intent


def test_llm_knobs_are_checked(ctx):
    assert ctx.configure({"llm_answer": "off_schema", "llm_latency": 0.8}).llm_latency == 0.8
    with pytest.raises(ConfigError, match="llm_answer"):
        ctx.configure({"llm_answer": "sometimes"})
