"""One LLM client, two real wire formats (outbound-apis.md sections 5 and 6).

- Amazon Bedrock's Converse API through boto3 `bedrock-runtime` (IAM-authorised; `endpoint_url` for an
  emulator). Structured output: one tool whose input schema is the answer's, forced with toolChoice `any`
  (`tool` is documented for Claude only), read back from `content[].toolUse.input`.
- Any OpenAI-compatible `POST {base_url}/chat/completions` through `requests` (OpenAI, Azure's /openai/v1,
  vLLM, Ollama, gateways). Structured output: `response_format` json_schema.

Either way the answer is checked against the schema on our side too: a model may ignore the request.
Failures are typed: LlmUnavailable (429, 5xx, timeouts: worth retrying later), LlmRejected (bad key, bad
request: fix the configuration), LlmMalformed (answered, but not to the schema). Each carries the tokens
the call used, so a failed call is still costed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.providers.json_schema import schema_errors


@dataclass(frozen=True)
class LlmRequest:
    system: str
    prompt: str
    max_tokens: int = 300
    temperature: float = 0.0
    schema: dict[str, Any] | None = None  # structured output: the answer must be an object matching it
    schema_name: str = "answer"


@dataclass(frozen=True)
class LlmAnswer:
    text: str
    data: dict[str, Any] | None  # the parsed object when a schema was asked for
    input_tokens: int
    output_tokens: int
    latency_ms: int


class LlmError(Exception):
    outcome = "error"

    def __init__(self, message: str, *, input_tokens: int = 0, output_tokens: int = 0) -> None:
        super().__init__(message)
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens


class LlmUnavailable(LlmError):
    """Throttled, timed out or a server error: the same call may work later."""

    outcome = "unavailable"


class LlmTimeout(LlmUnavailable):
    """No answer within the configured timeout."""

    outcome = "timeout"


class LlmRejected(LlmError):
    """The request or the credentials were refused: retrying the same call cannot help."""

    outcome = "rejected"


class LlmMalformed(LlmError):
    """The model answered, but not with an object that satisfies the schema."""

    outcome = "malformed"


class LlmClient(Protocol):
    provider: str
    model: str

    def complete(self, request: LlmRequest) -> LlmAnswer: ...


def structured(text: str, schema: dict[str, Any], *, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    """The answer's JSON object if it satisfies the schema; LlmMalformed otherwise."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LlmMalformed(
            "the answer is not JSON", input_tokens=input_tokens, output_tokens=output_tokens
        ) from exc
    return checked(data, schema, input_tokens=input_tokens, output_tokens=output_tokens)


def checked(data: Any, schema: dict[str, Any], *, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    errors = schema_errors(data, schema)
    if errors or not isinstance(data, dict):
        raise LlmMalformed(
            f"the answer does not satisfy the schema: {'; '.join(errors[:3]) or 'not an object'}",
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
    return data


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# --- Amazon Bedrock Converse ---------------------------------------------------------------------------

_BEDROCK_RETRYABLE = frozenset(
    {
        "ThrottlingException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "InternalServerException",
        "ServiceUnavailableException",
        "ModelErrorException",
    }
)


class BedrockConverse:
    provider = "bedrock"

    def __init__(
        self,
        model: str,
        *,
        endpoint_url: str = "",
        timeout_seconds: float = 10.0,
        bedrock_runtime: Any = None,
    ) -> None:
        self.model = model
        self.endpoint_url = endpoint_url
        self.timeout_seconds = timeout_seconds
        self._client = bedrock_runtime

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # One attempt: the job's own backoff (or the rules fallback) is the retry, not a sleeping worker.
            config = Config(
                connect_timeout=min(self.timeout_seconds, 5),
                read_timeout=self.timeout_seconds,
                retries={"total_max_attempts": 1, "mode": "standard"},
            )
            extra = {"endpoint_url": self.endpoint_url} if self.endpoint_url else {}
            self._client = boto3.client("bedrock-runtime", config=config, **extra)
        return self._client

    def request_kwargs(self, request: LlmRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "modelId": self.model,
            "messages": [{"role": "user", "content": [{"text": request.prompt}]}],
            "system": [{"text": request.system}],
            "inferenceConfig": {"maxTokens": request.max_tokens, "temperature": request.temperature},
        }
        if request.schema is not None:
            kwargs["toolConfig"] = {
                "tools": [
                    {
                        "toolSpec": {
                            "name": request.schema_name,
                            "description": "Record the answer.",
                            "inputSchema": {"json": request.schema},
                        }
                    }
                ],
                "toolChoice": {"any": {}},
            }
        return kwargs

    def complete(self, request: LlmRequest) -> LlmAnswer:
        from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

        started = time.monotonic()
        try:
            response = self.client.converse(**self.request_kwargs(request))
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            kind = LlmUnavailable if code in _BEDROCK_RETRYABLE else LlmRejected
            raise kind(f"bedrock converse: {code}") from exc
        except (ReadTimeoutError, ConnectTimeoutError) as exc:
            raise LlmTimeout(f"bedrock converse: {type(exc).__name__}") from exc
        except BotoCoreError as exc:  # endpoint unreachable, connection reset
            raise LlmUnavailable(f"bedrock converse: {type(exc).__name__}") from exc
        usage = response.get("usage") or {}
        tokens = {
            "input_tokens": int(usage.get("inputTokens") or 0),
            "output_tokens": int(usage.get("outputTokens") or 0),
        }
        blocks = ((response.get("output") or {}).get("message") or {}).get("content") or []
        text = "".join(block["text"] for block in blocks if isinstance(block.get("text"), str))
        data: dict[str, Any] | None = None
        if request.schema is not None:
            tool_inputs = [
                block["toolUse"].get("input") for block in blocks if isinstance(block.get("toolUse"), dict)
            ]
            if tool_inputs:
                data = checked(tool_inputs[0], request.schema, **tokens)
            else:
                data = structured(text, request.schema, **tokens)
        return LlmAnswer(text=text, data=data, latency_ms=_elapsed_ms(started), **tokens)


# --- OpenAI-compatible chat completions ----------------------------------------------------------------


def _post_with_requests(url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float) -> Any:
    import requests

    try:
        return requests.post(url, json=payload, headers=headers, timeout=timeout)
    except requests.Timeout as exc:
        raise LlmTimeout(f"chat completions: {type(exc).__name__}") from exc
    except requests.RequestException as exc:  # refused, reset, DNS
        raise LlmUnavailable(f"chat completions: {type(exc).__name__}") from exc


class OpenAiChat:
    provider = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: Callable[[], str] | str = "",
        timeout_seconds: float = 10.0,
        post: Callable[[str, dict[str, Any], dict[str, str], float], Any] = _post_with_requests,
    ) -> None:
        self.model = model
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self.timeout_seconds = timeout_seconds
        self._post = post

    def request_payload(self, request: LlmRequest) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.prompt},
            ],
            "temperature": request.temperature,
            # The portable field: Ollama reads no max_completion_tokens (outbound-apis.md section 6).
            "max_tokens": request.max_tokens,
        }
        if request.schema is not None:
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": True},
            }
        return payload

    def complete(self, request: LlmRequest) -> LlmAnswer:
        key = self._api_key() if callable(self._api_key) else self._api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        started = time.monotonic()
        response = self._post(self.url, self.request_payload(request), headers, self.timeout_seconds)
        body = _json_or_none(response)
        if response.status_code != 200:
            raise _http_error(response.status_code, body)
        usage = (body or {}).get("usage") or {}
        tokens = {
            "input_tokens": int(usage.get("prompt_tokens") or 0),
            "output_tokens": int(usage.get("completion_tokens") or 0),
        }
        try:
            message = body["choices"][0]["message"]  # type: ignore[index]
        except (KeyError, IndexError, TypeError) as exc:
            raise LlmMalformed("chat completions: no choices[0].message", **tokens) from exc
        if message.get("refusal"):
            raise LlmMalformed("chat completions: the model refused", **tokens)
        text = message.get("content") if isinstance(message.get("content"), str) else ""
        data = structured(text, request.schema, **tokens) if request.schema is not None else None
        return LlmAnswer(text=text, data=data, latency_ms=_elapsed_ms(started), **tokens)


def _json_or_none(response: Any) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _http_error(status: int, body: dict[str, Any] | None) -> LlmError:
    error = (body or {}).get("error")
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or error.get("type") or "")
    message = f"chat completions: HTTP {status} {code}".strip()
    # Out of credit is a 429 too, but waiting does not refill it (outbound-apis.md section 6).
    if code == "insufficient_quota":
        return LlmRejected(message)
    if status in (408, 409, 429) or status >= 500:
        return LlmUnavailable(message)
    return LlmRejected(message)


__all__ = [
    "BedrockConverse",
    "LlmAnswer",
    "LlmClient",
    "LlmError",
    "LlmMalformed",
    "LlmRejected",
    "LlmRequest",
    "LlmTimeout",
    "LlmUnavailable",
    "OpenAiChat",
]


def llm_client(
    provider: str, model: str, *, base_url: str, timeout_seconds: float, api_key: Callable[[], str] | str = ""
) -> LlmClient:
    """The client for LLM_PROVIDER: `bedrock` (base_url: an endpoint override) or `openai` (base_url: the
    API base with its version path, as the OpenAI SDK takes it: https://api.openai.com/v1)."""
    if provider == "bedrock":
        return BedrockConverse(model, endpoint_url=base_url, timeout_seconds=timeout_seconds)
    if provider == "openai":
        return OpenAiChat(model, base_url=base_url, api_key=api_key, timeout_seconds=timeout_seconds)
    raise ValueError(f"unknown LLM provider {provider!r}")
