"""The LLM client's pure parts: the two request shapes, error mapping, and the schema check."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from switchboard.providers.json_schema import schema_errors
from switchboard.providers.llm import (
    BedrockConverse,
    LlmMalformed,
    LlmRejected,
    LlmRequest,
    LlmUnavailable,
    OpenAiChat,
)
from switchboard.services.processing.llm_classify import SCHEMA

REQUEST = LlmRequest(system="Classify.", prompt="Yes please", max_tokens=50, schema=SCHEMA, schema_name="cls")


def test_bedrock_forces_one_tool_whose_input_schema_is_the_answer():
    kwargs = BedrockConverse("amazon.nova-micro-v1:0", bedrock_runtime=object()).request_kwargs(REQUEST)

    assert kwargs["system"] == [{"text": "Classify."}]
    assert kwargs["messages"] == [{"role": "user", "content": [{"text": "Yes please"}]}]
    assert kwargs["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.0}
    tool = kwargs["toolConfig"]["tools"][0]["toolSpec"]
    assert tool["name"] == "cls" and tool["inputSchema"] == {"json": SCHEMA}
    assert kwargs["toolConfig"]["toolChoice"] == {"any": {}}


def test_chat_completions_asks_for_a_strict_json_schema():
    payload = OpenAiChat("gpt-4o-mini", base_url="https://api.example/v1").request_payload(REQUEST)

    assert payload["messages"][0] == {"role": "system", "content": "Classify."}
    assert payload["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "cls", "schema": SCHEMA, "strict": True},
    }


def _post_answering(status: int, body: dict) -> OpenAiChat:
    response = SimpleNamespace(status_code=status, json=lambda: body)
    return OpenAiChat("m", base_url="https://api.example/v1", post=lambda *args: response)


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (429, {"type": "requests", "code": "rate_limit_exceeded"}, LlmUnavailable),
        (429, {"type": "insufficient_quota", "code": "insufficient_quota"}, LlmRejected),
        (401, {"type": "invalid_request_error", "code": "invalid_api_key"}, LlmRejected),
        (400, {"code": "BadRequest", "message": "Azure shape, no type"}, LlmRejected),
        (502, {}, LlmUnavailable),
    ],
)
def test_http_errors_map_to_retry_or_not(status, error, kind):
    with pytest.raises(kind) as raised:
        _post_answering(status, {"error": error}).complete(REQUEST)
    assert type(raised.value) is kind


def test_a_200_without_choices_is_malformed_with_its_usage():
    client = _post_answering(200, {"usage": {"prompt_tokens": 7, "completion_tokens": 0}})
    with pytest.raises(LlmMalformed) as raised:
        client.complete(REQUEST)
    assert raised.value.input_tokens == 7


@pytest.mark.parametrize(
    "answer",
    [
        {"intent": "Keen", "confidence": 0.5},
        {"intent": "Interested"},
        {"intent": "Interested", "confidence": 1.5},
        {"intent": "Interested", "confidence": True},
        {"intent": "Interested", "confidence": 0.5, "extra": 1},
        ["Interested"],
    ],
)
def test_answers_outside_the_classification_schema_are_caught(answer):
    assert schema_errors(answer, SCHEMA)


def test_an_answer_inside_the_schema_passes():
    assert schema_errors({"intent": "Opt-out", "confidence": 1}, SCHEMA) == []
