"""Two LLM wire formats the sandbox answers (outbound-apis.md sections 5 and 6), deterministically:

- Amazon Bedrock Converse, `POST /model/{modelId}/converse` (what boto3 sends with `endpoint_url`): errors
  as `{"message"}` with `x-amzn-ErrorType`, the shape botocore maps to `Error.Code`.
- OpenAI-compatible chat completions, `POST /v1/chat/completions` with a Bearer key: errors as
  `{"error": {"message", "type", "param", "code"}}`.

The answer comes from the last user message alone: an intent from its keywords when a JSON schema is asked
for (tool input or response_format), a fixed reply otherwise. Knobs in /sandbox/config: `llm_latency`
(seconds before every answer) and `llm_answer` (ok | not_json | off_schema | refusal). Errors and hangs
come from /sandbox/faults like every other route (`{"path": "/model/", "status": 429}`).
"""

from __future__ import annotations

import hmac
import json
import re
import time
from typing import Any
from urllib.parse import unquote

from switchboard_ops.sandbox.core import Context, bad_request
from switchboard_ops.sandbox.wire import HttpError, Request, Response

BEDROCK_PREFIX = "/model/"
OPENAI_PATH = "/v1/chat/completions"
_CONVERSE = re.compile(r"^/model/(?P<model>[^/]+)/converse$")
DRAFT_TEXT = "Thanks for getting back to me! Would Tuesday at 10am or Wednesday at 2pm work for a short call?"
# Checked in order, like any keyword classifier: the first match wins.
_INTENT_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (intent, re.compile(pattern, re.IGNORECASE))
    for intent, pattern in (
        ("Opt-out", r"\b(unsubscribe|remove me|stop (texting|emailing))\b"),
        ("Out of Office", r"\b(out of (the )?office|on vacation|away until)\b"),
        ("Not Interested", r"\b(not interested|no thanks|not a fit)\b"),
        (
            "Meeting Requested",
            r"\b(call|meet|meeting|talk|schedule|monday|tuesday|wednesday|thursday|friday)\b",
        ),
        ("Interested", r"\b(yes|interested|tell me more|pricing|sounds good)\b"),
    )
)
_BEDROCK_ERRORS = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
_OPENAI_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def intent_for(text: str) -> str:
    for intent, pattern in _INTENT_WORDS:
        if pattern.search(text):
            return intent
    return "Neutral"


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)  # about four characters a token, as tokenizers average on English


def _object_for(schema: dict[str, Any], prompt: str) -> dict[str, Any]:
    """An answer matching `schema`: enums get the prompt's intent (or their first value), numbers 0.9,
    booleans false, strings the draft text."""
    answer: dict[str, Any] = {}
    intent = intent_for(prompt)
    for name, sub in (schema.get("properties") or {}).items():
        if "enum" in sub:
            answer[name] = intent if intent in sub["enum"] else sub["enum"][0]
        elif sub.get("type") in ("number", "integer"):
            answer[name] = 0.9 if sub.get("type") == "number" else 1
        elif sub.get("type") == "boolean":
            answer[name] = False
        else:
            answer[name] = DRAFT_TEXT
    return answer


def _answer(ctx: Context, prompt: str, schema: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
    """(text, structured object or None) as the configured `llm_answer` mode shapes them."""
    mode = ctx.config.llm_answer
    if ctx.config.llm_latency:
        ctx.stopping.wait(ctx.config.llm_latency)
    ctx.store.count("llm_calls")
    if schema is None:
        return DRAFT_TEXT, None
    if mode == "not_json":
        return f"Sure! I would call this reply {intent_for(prompt)}.", None
    data = _object_for(schema, prompt)
    if mode == "off_schema":
        data = {**data, "intent": "Very Keen", "mood": "great"}
    return json.dumps(data), data


def _last_user_text(messages: Any, *, bedrock: bool) -> str:
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages must be a non-empty list")
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise bad_request("the last message must be the user's")
    if bedrock:
        return "".join(
            block.get("text", "") for block in last.get("content") or [] if isinstance(block, dict)
        )
    content = last.get("content")
    return content if isinstance(content, str) else ""


# --- Bedrock Converse ----------------------------------------------------------------------------------


def _bedrock_error(status: int, message: str) -> HttpError:
    code = _BEDROCK_ERRORS.get(status, "InternalServerException")
    return HttpError(
        status, {"message": message}, {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/"}
    )


def bedrock_fault(status: int) -> Response:
    return _bedrock_error(status, "Injected fault").response()


def bedrock_handle(ctx: Context, request: Request) -> Response:
    match = _CONVERSE.match(request.path)
    if request.method != "POST" or match is None:
        raise _bedrock_error(404, f"Unknown operation {request.method} {request.path}")
    if not (request.header("authorization") or "").startswith("AWS4-HMAC-SHA256"):
        raise _bedrock_error(403, "Missing Authentication Token")
    body = request.json_object()
    config = body.get("inferenceConfig") or {}
    if (
        not isinstance(config.get("temperature", 0), int | float)
        or not 0 <= config.get("temperature", 0) <= 1
    ):
        raise _bedrock_error(400, "temperature must be between 0 and 1")
    prompt = _last_user_text(body.get("messages"), bedrock=True)
    tools = ((body.get("toolConfig") or {}).get("tools")) or []
    spec = tools[0].get("toolSpec", {}) if tools else {}
    schema = ((spec.get("inputSchema") or {}).get("json")) if spec else None
    started = time.monotonic()
    text, data = _answer(ctx, prompt, schema)
    if ctx.config.llm_answer == "refusal":
        text, data = "I can't help with that.", None
    content: list[dict[str, Any]] = (
        [
            {
                "toolUse": {
                    "toolUseId": ctx.new_id("tooluse_"),
                    "name": spec.get("name", "answer"),
                    "input": data,
                }
            }
        ]
        if data is not None
        else [{"text": text}]
    )
    system = "".join(block.get("text", "") for block in body.get("system") or [] if isinstance(block, dict))
    usage = {"inputTokens": _tokens(system + prompt), "outputTokens": _tokens(text)}
    usage["totalTokens"] = usage["inputTokens"] + usage["outputTokens"]
    return Response.json(
        200,
        {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": "tool_use" if data is not None else "end_turn",
            "usage": usage,
            "metrics": {"latencyMs": int((time.monotonic() - started) * 1000)},
            "modelId": unquote(match.group("model")),
        },
    )


# --- OpenAI-compatible chat completions -------------------------------------------------------------------


def _openai_error(status: int, message: str) -> HttpError:
    kind, code = _OPENAI_ERRORS.get(status, ("server_error", None))
    return HttpError(status, {"error": {"message": message, "type": kind, "param": None, "code": code}})


def openai_fault(status: int) -> Response:
    return _openai_error(status, "Injected fault").response()


def openai_handle(ctx: Context, request: Request) -> Response:
    if request.method != "POST" or request.path.rstrip("/") != OPENAI_PATH:
        raise _openai_error(404, f"Unknown route {request.method} {request.path}")
    given = (request.header("authorization") or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), ctx.llm_api_key.encode()):
        raise _openai_error(401, "Incorrect API key provided.")
    body = request.json_object()
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _openai_error(400, "you must provide a model parameter")
    prompt = _last_user_text(body.get("messages"), bedrock=False)
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema") if response_format else None
    text, _ = _answer(ctx, prompt, schema)
    refused = ctx.config.llm_answer == "refusal"
    system = "".join(m.get("content", "") for m in body["messages"] if m.get("role") == "system")
    usage = {"prompt_tokens": _tokens(system + prompt), "completion_tokens": _tokens(text)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    message = {"role": "assistant", "content": None if refused else text, "refusal": refused or None}
    if refused:
        message["refusal"] = "I can't help with that."
    return Response.json(
        200,
        {
            "id": ctx.new_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(ctx.now()),
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        },
    )


class BedrockApi:
    """The routes' module-like face for the server's dispatch (handle + fault_response)."""

    handle = staticmethod(bedrock_handle)
    fault_response = staticmethod(bedrock_fault)


class OpenAiApi:
    handle = staticmethod(openai_handle)
    fault_response = staticmethod(openai_fault)
