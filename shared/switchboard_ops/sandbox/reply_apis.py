"""The four reply APIs an auto-reply goes out through (outbound-apis.md sections 1-4), on their real
paths with their auth checks, answers and error shapes; every reply they accept is recorded
(`GET /sandbox/replies`). Faults come from /sandbox/faults like every other route and answer in the
provider's own shape: 401 bad credentials, 429 rate limit (with Retry-After), and the unknown-thread
status of UNKNOWN_THREAD_STATUS. Error bodies the reference marks UNCONFIRMED (Instantly's) follow
the provider's framework default, `{"statusCode", "error", "message"}`.
"""

from __future__ import annotations

import hmac
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from switchboard_ops.sandbox.core import Context
from switchboard_ops.sandbox.wire import HttpError, Request, Response

RETRY_AFTER_SECONDS = 90  # longer than the sender's first backoff, so a test sees it honoured
GHL_PATH = "/conversations/messages"
GHL_VERSIONS = frozenset({"2021-04-15", "v3"})
SMARTLEAD = re.compile(r"^/api/v1/campaigns/(?P<campaign>[^/]+)/reply-email-thread$")
INSTANTLY_PATH = "/api/v2/emails/reply"
UNIPILE = re.compile(r"^/api/v1/chats/(?P<chat>[^/]+)/messages$")
# How each API answers a reply to a thread (contact, stats id, email, chat) it does not know.
UNKNOWN_THREAD_STATUS = {"ghl": 400, "smartlead": 400, "instantly": 404, "unipile": 404}
DEFAULT_KEYS = {
    "ghl": "local-ghl-access-token",
    "smartlead": "local-smartlead-api-key",
    "instantly": "local-instantly-api-key",
    "unipile": "local-unipile-api-key",
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def api_key(ctx: Context, provider: str) -> str:
    """The key a client must present: the secrets' (GHL's `access_token`, else `api_key`) or the default."""
    section = ctx.reply_secrets.get(provider) or {}
    return str(section.get("access_token" if provider == "ghl" else "api_key") or DEFAULT_KEYS[provider])


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _retry_after(status: int) -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 429 else {}


def _record(ctx: Context, provider: str, thread: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    reply_id = str(uuid.uuid4())
    ctx.store.add_reply(
        {
            "provider": provider,
            "id": reply_id,
            "thread": dict(thread),
            "request": dict(payload),
            "received_at": ctx.now(),
        }
    )
    return reply_id


# --- GoHighLevel ---------------------------------------------------------------------------------


def ghl_error(status: int, message: Any = None) -> HttpError:
    payload: dict[str, Any] = {"statusCode": status, "message": message or _TITLES.get(status, "Error")}
    if status == 401:
        payload["message"] = message or "Invalid token: access token is invalid"
    if status in (401, 422, 429):
        payload["error"] = _TITLES[status]
    return HttpError(status, payload, _retry_after(status))


def ghl_handle(ctx: Context, request: Request) -> Response:
    if request.path.rstrip("/") != GHL_PATH or request.method != "POST":
        raise ghl_error(404, f"Cannot {request.method} {request.path}")
    if not _same(request.header("authorization"), f"Bearer {api_key(ctx, 'ghl')}"):
        raise ghl_error(401)
    if request.header("version") not in GHL_VERSIONS:
        raise ghl_error(400, "Version header must be 2021-04-15")
    payload = request.json_object()
    problems = [f"{name} should not be empty" for name in ("type", "contactId") if not payload.get(name)]
    email = payload.get("type") == "Email"
    if email and not (payload.get("html") or payload.get("message")):
        problems.append("html or message should not be empty")
    if not email and not payload.get("message"):
        problems.append("message should not be empty")
    if problems:
        raise ghl_error(422, problems)
    reply_id = _record(ctx, "ghl", {"contactId": payload["contactId"]}, payload)
    answer = {
        "conversationId": "conv" + reply_id[:8],
        "messageId": reply_id,
        "msg": "Message queued",
        "status": "pending",
    }
    if email:
        answer["emailMessageId"] = f"<{reply_id}@sandbox.leadconnectorhq.com>"
    return Response.json(200, answer)


# --- SmartLead -----------------------------------------------------------------------------------

_SMARTLEAD_FIELDS = (
    "email_stats_id",
    "email_body",
    "reply_message_id",
    "reply_email_time",
    "reply_email_body",
)


def smartlead_error(status: int, message: str | None = None) -> HttpError:
    if status == 400:
        return HttpError(400, {"error": message or "Invalid email_stats_id or campaign_id"})
    code = {401: "UNAUTHORIZED", 429: "RATE_LIMIT_EXCEEDED", 404: "NOT_FOUND"}.get(status, "INTERNAL_ERROR")
    error: dict[str, Any] = {"code": code, "message": message or _TITLES.get(status, "Error")}
    if status == 429:
        error["retry_after"] = RETRY_AFTER_SECONDS
    return HttpError(status, {"error": error}, _retry_after(status))


def smartlead_handle(ctx: Context, request: Request) -> Response:
    match = SMARTLEAD.match(request.path)
    if match is None or request.method != "POST":
        raise smartlead_error(404, f"Cannot {request.method} {request.path}")
    key = request.arg("api_key")
    if not key:
        raise HttpError(401, {"message": "API key is required."})
    if not _same(key, api_key(ctx, "smartlead")):
        raise smartlead_error(401, "Invalid API key")
    payload = request.json_object()
    missing = [name for name in _SMARTLEAD_FIELDS if not payload.get(name)]
    if missing:
        raise smartlead_error(400, f"{', '.join(missing)} is required")
    thread = {"campaign_id": match["campaign"], "email_stats_id": payload["email_stats_id"]}
    _record(ctx, "smartlead", thread, payload)
    return Response.json(200, {"success": True, "message": "Reply sent successfully"})


# --- Instantly -----------------------------------------------------------------------------------


def instantly_error(status: int, message: str | None = None) -> HttpError:
    payload = {"statusCode": status, "error": _TITLES.get(status, "Error"), "message": message or ""}
    return HttpError(status, payload, _retry_after(status))


def instantly_handle(ctx: Context, request: Request) -> Response:
    if request.path.rstrip("/") != INSTANTLY_PATH or request.method != "POST":
        raise instantly_error(404, f"Route {request.method}:{request.path} not found")
    if not _same(request.header("authorization"), f"Bearer {api_key(ctx, 'instantly')}"):
        raise instantly_error(401, "Invalid API key")
    payload = request.json_object()
    body = payload.get("body")
    missing = [name for name in ("eaccount", "reply_to_uuid", "subject") if not payload.get(name)]
    if not isinstance(body, dict) or not (body.get("text") or body.get("html")):
        missing.append("body.text or body.html")
    if missing:
        raise instantly_error(400, f"body must have required property {missing[0]}")
    reply_id = _record(ctx, "instantly", {"reply_to_uuid": payload["reply_to_uuid"]}, payload)
    answer = {
        "id": reply_id,
        "message_id": f"<{reply_id}@sandbox.instantly.ai>",
        "timestamp_email": datetime.fromtimestamp(ctx.now(), tz=UTC).isoformat(),
        "eaccount": payload["eaccount"],
        "subject": payload["subject"],
        "is_auto_reply": 0,
    }
    return Response.json(200, answer)


# --- Unipile -------------------------------------------------------------------------------------

_UNIPILE_TYPES = {
    400: "invalid_parameters",
    401: "invalid_credentials",
    404: "resource_not_found",
    415: "unsupported_media_type",
    422: "invalid_message",
    429: "too_many_requests",
    500: "unexpected_error",
    503: "service_unavailable",
    504: "request_timeout",
}


def unipile_error(status: int, detail: str | None = None) -> HttpError:
    payload = {
        "title": _TITLES.get(status, "Error"),
        "detail": detail or _TITLES.get(status, "Error"),
        "instance": None,
        "type": f"errors/{_UNIPILE_TYPES.get(status, 'unexpected_error')}",
        "status": status,
    }
    return HttpError(status, payload, _retry_after(status))


def _multipart(request: Request) -> dict[str, str]:
    content_type = request.header("content-type") or ""
    if not content_type.startswith("multipart/form-data"):
        raise unipile_error(415, "the body must be multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
    )
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            fields[name] = part.get_content() if part.get_content_maintype() == "text" else ""
    return fields


def unipile_handle(ctx: Context, request: Request) -> Response:
    match = UNIPILE.match(request.path)
    if match is None or request.method != "POST":
        raise unipile_error(404, f"Cannot {request.method} {request.path}")
    if not _same(request.header("x-api-key"), api_key(ctx, "unipile")):
        raise unipile_error(401, "The provided credentials are invalid")
    fields = _multipart(request)
    if not fields.get("text"):
        raise unipile_error(400, "text is required")
    reply_id = _record(ctx, "unipile", {"chat_id": match["chat"]}, fields)
    return Response.json(201, {"object": "MessageSent", "message_id": reply_id})


@dataclass(frozen=True)
class ReplyApi:
    """A reply API's module-like face for the server's dispatch (handle + fault_response)."""

    handle: Callable[[Context, Request], Response]
    error: Callable[[int], HttpError]  # the API's own error shape, for injected faults too

    def fault_response(self, status: int) -> Response:
        return self.error(status).response()


GhlApi = ReplyApi(ghl_handle, ghl_error)
SmartLeadApi = ReplyApi(smartlead_handle, smartlead_error)
InstantlyApi = ReplyApi(instantly_handle, instantly_error)
UnipileApi = ReplyApi(unipile_handle, unipile_error)


def api_for(path: str) -> ReplyApi | None:
    """The reply API a path belongs to, or None."""
    if path.rstrip("/") == GHL_PATH:
        return GhlApi
    if path.rstrip("/") == INSTANTLY_PATH:
        return InstantlyApi
    if path.startswith("/api/v1/campaigns/"):
        return SmartLeadApi
    if path.startswith("/api/v1/chats/"):
        return UnipileApi
    return None
