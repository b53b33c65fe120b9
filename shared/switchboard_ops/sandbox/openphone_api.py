"""The OpenPhone (Quo) public API v1 subset Switchboard calls (send, list, fetch messages; list
conversations) and the legacy webhooks it sends (message.received, message.delivered) signed with
`openphone-signature`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from switchboard.providers import openphone as openphone_provider
from switchboard_ops.sandbox.core import Context, Step, parse_instant
from switchboard_ops.sandbox.delivery import Webhook
from switchboard_ops.sandbox.store import INBOUND, OUTBOUND, MediaItem, StoredMessage
from switchboard_ops.sandbox.wire import HttpError, Request, Response, is_e164, phone_arg

PREFIX = "/v1/"
_MESSAGES = "/v1/messages"
_CONVERSATIONS = "/v1/conversations"
_MESSAGE = re.compile(r"^/v1/messages/(?P<id>[^/]+)$")
_MAX_CONTENT = 1600
_OUTCOME_STEPS: dict[str, list[Step]] = {
    "delivered": [("sent", None), ("delivered", None)],
    "undelivered": [("sent", None), ("undelivered", None)],
    "failed": [("sent", None), ("undelivered", None)],  # the v1 status enum has no "failed"
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_USER_AGENT = "OpenPhone-Webhooks (switchboard sandbox)"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> HttpError:
    payload = {
        "message": message,
        "code": f"0100{status}",
        "status": status,
        "docs": "https://www.openphone.com/docs",
        "title": _TITLES.get(status, "Error"),
    }
    return HttpError(status, payload, headers)


def fault_response(status: int) -> Response:
    return error(status, _TITLES.get(status, "Injected fault")).response()


# --- the REST API ------------------------------------------------------------------------------


def handle(ctx: Context, request: Request) -> Response:
    given = request.header("authorization") or ""
    if not hmac.compare_digest(given.strip().encode(), ctx.openphone_api_key.encode()):
        raise error(401, "Unauthorized")
    wait = ctx.limits.try_acquire("openphone")
    if wait:
        from switchboard_ops.sandbox.ratelimit import retry_after_header

        ctx.store.count("rate_limited")
        raise error(429, "Too many requests", {"Retry-After": retry_after_header(wait)})
    if request.path.rstrip("/") == _MESSAGES:
        if request.method == "POST":
            return _send(ctx, request)
        if request.method == "GET":
            return _list(ctx, request)
        raise error(405, "Method not allowed")
    if request.path.rstrip("/") == _CONVERSATIONS:
        if request.method == "GET":
            return _list_conversations(ctx, request)
        raise error(405, "Method not allowed")
    single = _MESSAGE.match(request.path)
    if single and request.method == "GET":
        message = ctx.store.get("openphone", single["id"])
        if message is None:
            raise error(404, "Message not found")
        return Response.json(200, {"data": message_json(message)})
    raise error(404, f"Cannot {request.method} {request.path}")


def _send(ctx: Context, request: Request) -> Response:
    try:
        payload = request.json_object()
    except HttpError as exc:
        raise error(400, "Request body must be a JSON object") from exc
    content = payload.get("content")
    if not isinstance(content, str) or not 1 <= len(content) <= _MAX_CONTENT:
        raise error(400, "content must be a string of 1 to 1600 characters")
    sender = payload.get("from", payload.get("phoneNumberId"))
    if not isinstance(sender, str) or not sender:
        raise error(400, "from is required: a phone number id (PN...) or an E.164 number")
    to = payload.get("to")
    if not isinstance(to, list) or not 1 <= len(to) <= 10 or not all(is_e164(item) for item in to):
        raise error(400, "to must be a list of 1 to 10 E.164 phone numbers")
    user_id = payload.get("userId")
    if user_id is not None and (not isinstance(user_id, str) or not user_id.startswith("US")):
        raise error(400, "userId must be a user id (US...)")
    config = ctx.config
    number: str | None
    phone_number_id: str | None
    if sender.startswith("PN"):
        number, phone_number_id = config.number_for_id(sender), sender
    else:
        number, phone_number_id = sender, config.phone_number_id(sender)
    if number is None or phone_number_id is None:
        raise error(403, "Not Phone Number User: from is not a phone number of this workspace")
    now = ctx.now()
    recipients = tuple(to)
    message = ctx.store.add(
        StoredMessage(
            provider="openphone",
            id=ctx.new_id("AC"),
            seq=ctx.store.next_seq(),
            direction=OUTBOUND,
            sender=number,
            recipients=recipients,
            body=content,
            status="queued",
            created_at=now,
            updated_at=now,
            account=phone_number_id,
            user_id=user_id or config.openphone_user_id,
            conversation_id=_conversation_id(phone_number_id, recipients),
        )
    )
    ctx.store.count("sent")
    outcome = next((config.outcome_for(item) for item in recipients if item in config.outcomes), "delivered")
    ctx.run_lifecycle(
        "openphone", message.id, _OUTCOME_STEPS[outcome], lambda current: delivered(ctx, current)
    )
    return Response.json(202, {"data": message_json(message)})


def _conversation_id(phone_number_id: str, counterparts: tuple[str, ...]) -> str:
    digest = hashlib.sha256(f"{phone_number_id}:{','.join(sorted(counterparts))}".encode()).hexdigest()
    return "CN" + digest[:32]


def iso(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def message_json(message: StoredMessage) -> dict[str, Any]:
    """The v1 REST message object: `to` is a list, `from` a string."""
    return {
        "id": message.id,
        "to": list(message.recipients),
        "from": message.sender,
        "text": message.body,
        "phoneNumberId": message.account,
        "conversationId": message.conversation_id,
        "direction": "incoming" if message.direction == INBOUND else "outgoing",
        "userId": message.user_id,
        "status": message.status,
        "createdAt": iso(message.created_at),
        "updatedAt": iso(message.updated_at),
    }


# --- list + paging -----------------------------------------------------------------------------


def _list(ctx: Context, request: Request) -> Response:
    phone_number_id = request.arg("phoneNumberId")
    if not phone_number_id:
        raise error(400, "phoneNumberId is required")
    participants = [
        phone_arg(value) or ""
        for name in ("participants", "participants[]")
        for value in request.query.get(name, [])
    ]
    if not 1 <= len(participants) <= 10 or not all(is_e164(item) for item in participants):
        raise error(400, "participants must hold 1 to 10 E.164 phone numbers")
    max_results = _max_results(request.arg("maxResults") or "10")
    after = _instant_arg(request, "createdAfter")
    before = _instant_arg(request, "createdBefore") or _instant_arg(request, "since")  # since: deprecated
    user_id = request.arg("userId")
    wanted = frozenset(participants)

    def keep(message: StoredMessage) -> bool:
        return (
            message.account == phone_number_id
            and message.counterparts == wanted
            and (after is None or message.created_at > after)
            and (before is None or message.created_at < before)
            and (user_id is None or message.user_id == user_id)
        )

    chronological = sorted(filter(keep, ctx.store.messages("openphone")), key=_order)
    rest = chronological
    token = request.arg("pageToken")
    if token:
        anchor = _decode_token(token)
        rest = [message for message in chronological if _order(message) > anchor]
    page = rest[:max_results]
    next_token = _encode_token(page[-1]) if len(rest) > max_results else None
    payload = {
        "data": [message_json(message) for message in page],
        "totalItems": len(chronological),
        "nextPageToken": next_token,
    }
    return Response.json(200, payload)


def _max_results(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise error(400, "maxResults must be a whole number from 1 to 100")
    return int(raw)


def _order(message: StoredMessage) -> tuple[float, int]:
    return (message.created_at, message.seq)


def _encode_token(message: StoredMessage) -> str:
    raw = json.dumps([message.created_at, message.seq]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[float, int]:
    try:
        created, seq = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return float(created), int(seq)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise error(400, "pageToken is not valid") from exc


def _instant_arg(request: Request, name: str) -> float | None:
    value = request.arg(name)
    if not value:
        return None
    try:
        return parse_instant(value, name)
    except HttpError as exc:
        raise error(400, f"{name} must be an ISO-8601 date-time") from exc


# --- conversations -----------------------------------------------------------------------------


@dataclass
class Conversation:
    """The stored messages of one (phoneNumberId, participants) pair, oldest first."""

    phone_number_id: str
    participants: tuple[str, ...]
    messages: list[StoredMessage] = field(default_factory=list)

    @property
    def first(self) -> StoredMessage:
        return self.messages[0]

    @property
    def last(self) -> StoredMessage:
        return self.messages[-1]

    def order(self) -> tuple[float, int]:
        """Most recent activity first; the last message's seq breaks ties, so paging is stable."""
        return (-self.last.created_at, -self.last.seq)

    def json(self) -> dict[str, Any]:
        return {
            "id": _conversation_id(self.phone_number_id, self.participants),
            "phoneNumberId": self.phone_number_id,
            "participants": list(self.participants),
            "name": None,
            "assignedTo": None,
            "createdAt": iso(self.first.created_at),
            "updatedAt": iso(self.last.created_at),
            "lastActivityAt": iso(self.last.created_at),
            "lastActivityId": self.last.id,
            "deletedAt": None,
            "mutedUntil": None,
            "snoozedUntil": None,
        }


def group_conversations(store_messages: list[StoredMessage]) -> list[Conversation]:
    """The stored OpenPhone messages grouped the way /v1/messages is queried: business number id plus the
    set of counterparts; a message's conversationId is the same hash."""
    grouped: dict[tuple[str, tuple[str, ...]], Conversation] = {}
    for message in sorted(store_messages, key=_order):
        participants = tuple(sorted(message.counterparts))
        key = (message.account, participants)
        grouped.setdefault(key, Conversation(message.account, participants)).messages.append(message)
    return list(grouped.values())


def _list_conversations(ctx: Context, request: Request) -> Response:
    """GET /v1/conversations: most recent activity first. userId and excludeInactive are accepted and
    ignored (the sandbox has one user and no inactive conversations)."""
    raw_max = request.arg("maxResults")
    if not raw_max:
        raise error(400, "maxResults is required: a whole number from 1 to 100")
    max_results = _max_results(raw_max)
    filters = [
        phone_arg(value) or ""
        for name in ("phoneNumbers", "phoneNumbers[]")
        for value in request.query.get(name, [])
    ]
    if len(filters) > 100 or not all(item.startswith("PN") or is_e164(item) for item in filters):
        raise error(400, "phoneNumbers must hold up to 100 phone number ids (PN...) or E.164 numbers")
    wanted = {item if item.startswith("PN") else ctx.config.phone_number_id(item) for item in filters}
    bounds = {
        name: _instant_arg(request, name)
        for name in ("createdAfter", "createdBefore", "updatedAfter", "updatedBefore")
    }

    def keep(conversation: Conversation) -> bool:
        created, updated = conversation.first.created_at, conversation.last.created_at
        return (
            (not filters or conversation.phone_number_id in wanted)
            and _within(created, bounds["createdAfter"], bounds["createdBefore"])
            and _within(updated, bounds["updatedAfter"], bounds["updatedBefore"])
        )

    ordered = sorted(
        filter(keep, group_conversations(ctx.store.messages("openphone"))), key=Conversation.order
    )
    rest = ordered
    token = request.arg("pageToken")
    if token:
        created, seq = _decode_token(token)  # the anchor: the last conversation's last message
        anchor = (-created, -seq)
        rest = [conversation for conversation in ordered if conversation.order() > anchor]
    page = rest[:max_results]
    next_token = _encode_token(page[-1].last) if len(rest) > max_results else None
    payload = {
        "data": [conversation.json() for conversation in page],
        "totalItems": len(ordered),
        "nextPageToken": next_token,
    }
    return Response.json(200, payload)


def _within(moment: float, after: float | None, before: float | None) -> bool:
    return (after is None or moment > after) and (before is None or moment < before)


# --- webhooks ----------------------------------------------------------------------------------


def _envelope(event_type: str, message: StoredMessage, now: float) -> bytes:
    item: dict[str, Any] = {
        "id": message.id,
        "object": "message",
        "from": message.sender,
        "to": message.recipient if len(message.recipients) == 1 else list(message.recipients),
        "direction": "incoming" if message.direction == INBOUND else "outgoing",
        "text": message.body,
        "status": message.status,
        "createdAt": iso(message.created_at),
        "userId": message.user_id,
        "phoneNumberId": message.account,
        "conversationId": message.conversation_id,
        "media": [{"url": media.url, "type": media.content_type} for media in message.media],
    }
    envelope = {
        "id": "EV" + hashlib.sha256(f"{event_type}:{message.id}".encode()).hexdigest()[:32],
        "object": "event",
        "apiVersion": "v3",
        "createdAt": iso(now),
        "type": event_type,
        "data": {"object": item},
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def _webhook(ctx: Context, event_type: str, message: StoredMessage, *, inbound: bool) -> Webhook:
    signing_key = ctx.openphone_signing_key

    def sign(url: str, body: bytes) -> dict[str, str]:
        return openphone_provider.legacy_signature_headers(body, signing_key, time.time())

    return Webhook(
        kind=f"openphone.{event_type}",
        url=f"{ctx.config.api_url}/webhooks/openphone",
        body=_envelope(event_type, message, ctx.now()),
        content_type="application/json",
        sign=sign,
        user_agent=_USER_AGENT,
        message_id=message.id,
        inbound=inbound,
    )


def delivered(ctx: Context, message: StoredMessage) -> Webhook | None:
    """Legacy webhooks know message.received and message.delivered only: no event for other statuses."""
    if message.status != "delivered":
        return None
    return _webhook(ctx, "message.delivered", message, inbound=False)


def inbound(
    ctx: Context, sender: str, recipient: str, body: str, media: tuple[MediaItem, ...], at: float
) -> tuple[StoredMessage, Webhook]:
    if not is_e164(sender):
        raise HttpError(400, {"error": "bad_request", "detail": "'from' must be an E.164 number"})
    phone_number_id = ctx.config.phone_number_id(recipient)
    if phone_number_id is None:
        known = ", ".join(sorted(ctx.config.openphone_numbers))
        detail = f"'to' must be one of the sandbox's OpenPhone numbers ({known}); see openphone_numbers"
        raise HttpError(400, {"error": "bad_request", "detail": detail})
    message = ctx.store.add(
        StoredMessage(
            provider="openphone",
            id=ctx.new_id("AC"),
            seq=ctx.store.next_seq(),
            direction=INBOUND,
            sender=sender,
            recipients=(recipient,),
            body=body,
            status="received",
            created_at=at,
            updated_at=at,
            sent_at=at,
            account=phone_number_id,
            media=media,
            conversation_id=_conversation_id(phone_number_id, (sender,)),
        )
    )
    ctx.apply_keywords(recipient, sender, body)
    return message, _webhook(ctx, "message.received", message, inbound=True)
