"""A Slack incoming webhook (outbound-apis.md, Slack): `POST /slack/hook` with `{"text"}` answers 200
`ok` and records the text (GET /sandbox/slack lists them). Slack's errors are plain text: 400
`invalid_payload`, 429 `rate_limited` with Retry-After; faults come from /sandbox/faults
(`{"path": "/slack/", "status": 429}`)."""

from __future__ import annotations

from switchboard_ops.sandbox.core import Context
from switchboard_ops.sandbox.wire import Request, Response

PREFIX = "/slack/"
HOOK_PATH = "/slack/hook"
_ERRORS = {400: "invalid_payload", 403: "action_prohibited", 404: "no_service", 429: "rate_limited"}


def _text(status: int, body: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, body.encode(), [("Content-Type", "text/plain"), *(headers or [])])


def fault_response(status: int) -> Response:
    retry_after = [("Retry-After", "1")] if status == 429 else []
    return _text(status, _ERRORS.get(status, "internal_error"), retry_after)


def handle(ctx: Context, request: Request) -> Response:
    if request.method != "POST" or request.path.rstrip("/") != HOOK_PATH:
        return _text(404, "no_service")
    try:
        body = request.json_object()
    except Exception:  # noqa: BLE001 - Slack answers any unreadable body the same way
        return _text(400, "invalid_payload")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return _text(400, "no_text")
    ctx.store.record_slack(text)
    return _text(200, "ok")
