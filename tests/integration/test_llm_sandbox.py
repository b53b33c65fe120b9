"""The LLM client's two wire formats against the sandbox over loopback HTTP: the real boto3
`bedrock-runtime` client (endpoint_url) and `requests` for chat completions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import boto3
import pytest
from botocore.config import Config

from switchboard.providers.llm import (
    BedrockConverse,
    LlmClient,
    LlmMalformed,
    LlmRejected,
    LlmRequest,
    LlmTimeout,
    LlmUnavailable,
    OpenAiChat,
)
from switchboard.services.processing.llm_classify import SCHEMA
from switchboard_ops.sandbox import Sandbox

MODEL = "us.amazon.nova-micro-v1:0"
KEY = "local-llm-api-key"
CLASSIFY = LlmRequest(system="Classify the reply.", prompt="Yes, let's talk Tuesday", schema=SCHEMA)


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox("http://127.0.0.1:9") as sandbox:
        yield sandbox


def bedrock(box: Sandbox, timeout: float = 5.0) -> BedrockConverse:
    runtime = boto3.client(
        "bedrock-runtime",
        endpoint_url=box.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            read_timeout=timeout,
            connect_timeout=timeout,
        ),
    )
    return BedrockConverse(MODEL, bedrock_runtime=runtime, timeout_seconds=timeout)


def openai(box: Sandbox, key: str = KEY, timeout: float = 5.0) -> OpenAiChat:
    return OpenAiChat("gpt-4o-mini", base_url=f"{box.url}/v1", api_key=key, timeout_seconds=timeout)


class ClientOf(Protocol):
    def __call__(self, box: Sandbox, *, timeout: float = ...) -> LlmClient: ...


CLIENTS: dict[str, ClientOf] = {"bedrock": bedrock, "openai": openai}


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_structured_answer_comes_back_checked_with_its_tokens(box, kind):
    # Given the sandbox answering with the intent its keywords find
    client = CLIENTS[kind](box)
    # When asked for a classification
    answer = client.complete(CLASSIFY)
    # Then the object satisfies the schema and the usage is counted
    assert answer.data == {"intent": "Meeting Requested", "confidence": 0.9}
    assert answer.input_tokens > 0 and answer.output_tokens > 0


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_free_text_answer_has_no_structured_data(box, kind):
    answer = CLIENTS[kind](box).complete(LlmRequest(system="Write a reply.", prompt="Sounds good"))
    assert answer.data is None and answer.text.startswith("Thanks")


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("mode", ["not_json", "off_schema", "refusal"])
def test_an_answer_outside_the_schema_is_malformed_and_still_costed(box, kind, mode):
    # Given the sandbox set to answer badly
    box.configure(llm_answer=mode)
    # When asked / Then the client refuses the answer, keeping the tokens it cost
    with pytest.raises(LlmMalformed) as raised:
        CLIENTS[kind](box).complete(CLASSIFY)
    assert raised.value.input_tokens > 0


@pytest.mark.parametrize(("kind", "path"), [("bedrock", "/model/"), ("openai", "/v1/chat/completions")])
@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_unavailable(box, kind, path, status):
    box.add_faults({"path": path, "status": status})
    with pytest.raises(LlmUnavailable) as raised:
        CLIENTS[kind](box).complete(CLASSIFY)
    assert not isinstance(raised.value, LlmTimeout)


def test_bedrock_error_codes_arrive_as_botocore_reads_them(box):
    # Given a throttled Converse call / Then the code comes from x-amzn-ErrorType
    box.add_faults({"path": "/model/", "status": 429})
    with pytest.raises(LlmUnavailable, match="ThrottlingException"):
        bedrock(box).complete(CLASSIFY)


def test_a_bad_openai_key_is_rejected_not_retried(box):
    with pytest.raises(LlmRejected, match="401 invalid_api_key"):
        openai(box, key="sk-wrong").complete(CLASSIFY)


@pytest.mark.parametrize(("kind", "path"), [("bedrock", "/model/"), ("openai", "/v1/chat/completions")])
def test_no_answer_within_the_timeout_is_a_timeout(box, kind, path):
    # Given the sandbox holding the connection longer than the client waits
    box.add_faults({"path": path, "timeout_ms": 3000})
    # When asked with a 0.5 s timeout / Then the call ends as a timeout
    with pytest.raises(LlmTimeout):
        CLIENTS[kind](box, timeout=0.5).complete(CLASSIFY)


def test_the_sandbox_counts_model_calls(box):
    openai(box).complete(CLASSIFY)
    bedrock(box).complete(CLASSIFY)
    assert box.stats()["llm_calls"] == 2
