"""Listing OpenPhone's messages (reconciliation) with `requests`: a conversation's messages, and the
conversations themselves; a listed message is mapped as its webhook is (providers/openphone.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from switchboard.errors import MalformedPayload
from switchboard.models import Channel, Message
from switchboard.providers._common import canonical_event, media_items, parse_timestamp, string_field
from switchboard.providers.listing import (
    LIST_TIMEOUT,
    ListRejected,
    Pacing,
    Page,
    RetryableStatus,
    is_retryable,
)
from switchboard.providers.openphone import message_direction, message_phone
from switchboard.providers.outbound import DEFAULT_OPENPHONE_API

_MAX_PARTICIPANTS = 10  # /v1/messages' participants limit


def openphone_message(item: Mapping[str, Any]) -> Message:
    """A v1 REST message object (`to` a list) as the canonical Message; same mapping as its webhooks."""
    message = dict(item)
    if not string_field(message, "id") or not string_field(message, "from"):
        raise MalformedPayload("a listed OpenPhone message needs id and from")
    direction = message_direction(message)
    media = media_items(message.get("media"), field="media")
    return canonical_event(
        Message,
        provider="openphone",
        provider_message_id=string_field(message, "id"),
        channel=Channel.MMS if media else Channel.SMS,
        direction=direction,
        sender=message_phone(message, "from"),
        recipient=message_phone(message, "to"),
        body=string_field(message, "text") or string_field(message, "body") or "",
        media=media,
        status=string_field(message, "status"),
        thread_id=string_field(message, "conversationId"),
        account_id=string_field(message, "phoneNumberId"),
        occurred_at=parse_timestamp(message.get("createdAt"), field="createdAt"),
        event_type="message.listed",
        raw={"data": {"object": message}},
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def list_openphone_messages(
    credentials: Mapping[str, Any],
    *,
    phone_number_id: str,
    participants: list[str],
    created_after: datetime,
    created_before: datetime,
    max_results: int = 100,
    page_token: str | None = None,
    base_url: str | None = None,
    pacing: Pacing | None = None,
    session: Any = None,
) -> Iterator[Page]:
    """One conversation's messages in (created_after, created_before), oldest first; cursor = pageToken."""
    pacing = pacing or Pacing()
    query: list[tuple[str, str]] = [
        ("phoneNumberId", phone_number_id),
        *(("participants", number) for number in participants),
        ("maxResults", str(max_results)),
        ("createdAfter", _iso(created_after)),
        ("createdBefore", _iso(created_before)),
    ]
    for payload in _openphone_pages(
        "/v1/messages", query, credentials, page_token, base_url, pacing, session
    ):
        yield pacing.mapped(payload["data"], openphone_message), payload.get("nextPageToken") or None


@dataclass(frozen=True)
class OpenPhoneConversation:
    """What reconciliation needs of a v1 conversation: the two arguments /v1/messages requires."""

    id: str
    phone_number_id: str
    participants: tuple[str, ...]  # E.164, 0 to 10 (a conversation with none has no messages to list)
    last_activity_at: str | None = None


def openphone_conversation(item: Mapping[str, Any]) -> OpenPhoneConversation:
    conversation = dict(item)
    conversation_id = string_field(conversation, "id")
    phone_number_id = string_field(conversation, "phoneNumberId")
    participants = conversation.get("participants")
    if not conversation_id or not phone_number_id:
        raise MalformedPayload("a listed OpenPhone conversation needs id and phoneNumberId")
    if not isinstance(participants, list) or not all(isinstance(number, str) for number in participants):
        raise MalformedPayload("a listed OpenPhone conversation's participants must be a list of numbers")
    if len(participants) > _MAX_PARTICIPANTS:
        raise MalformedPayload(f"/v1/messages takes at most {_MAX_PARTICIPANTS} participants")
    return OpenPhoneConversation(
        id=conversation_id,
        phone_number_id=phone_number_id,
        participants=tuple(participants),
        last_activity_at=string_field(conversation, "lastActivityAt"),
    )


def list_openphone_conversations(
    credentials: Mapping[str, Any],
    *,
    updated_after: datetime,
    updated_before: datetime | None = None,
    phone_numbers: list[str] | None = None,
    max_results: int = 100,
    page_token: str | None = None,
    base_url: str | None = None,
    pacing: Pacing | None = None,
    session: Any = None,
) -> Iterator[tuple[list[OpenPhoneConversation], str | None]]:
    """The workspace's conversations (or those of `phone_numbers`: PN ids or E.164) updated after
    `updated_after`, most recent activity first, a page at a time; cursor = pageToken."""
    pacing = pacing or Pacing()
    query: list[tuple[str, str]] = [
        *(("phoneNumbers", number) for number in phone_numbers or ()),
        ("maxResults", str(max_results)),
        ("updatedAfter", _iso(updated_after)),
    ]
    if updated_before is not None:
        query.append(("updatedBefore", _iso(updated_before)))
    for payload in _openphone_pages(
        "/v1/conversations", query, credentials, page_token, base_url, pacing, session
    ):
        yield pacing.mapped(payload["data"], openphone_conversation), payload.get("nextPageToken") or None


def _openphone_pages(
    path: str,
    query: list[tuple[str, str]],
    credentials: Mapping[str, Any],
    page_token: str | None,
    base_url: str | None,
    pacing: Pacing,
    session: Any,
) -> Iterator[dict[str, Any]]:
    """GET a v1 list endpoint page after page (following nextPageToken), each request through `pacing`."""
    import requests

    http = session or requests.Session()
    url = f"{(base_url or DEFAULT_OPENPHONE_API).rstrip('/')}{path}"
    headers = {"Authorization": str(credentials["api_key"])}

    def fetch(token: str | None) -> dict[str, Any]:
        params = [*query, ("pageToken", token)] if token else query

        def attempt() -> dict[str, Any]:
            try:
                response = http.get(url, params=params, headers=headers, timeout=LIST_TIMEOUT)
            except requests.exceptions.RequestException as exc:
                raise ConnectionError(f"OpenPhone list failed: {type(exc).__name__}") from exc
            if is_retryable(response.status_code):
                raise RetryableStatus(response.status_code, response.headers.get("Retry-After"))
            if response.status_code >= 400:
                raise ListRejected(f"OpenPhone answered {response.status_code}: {response.text[:200]}")
            try:
                payload = response.json()
            except ValueError as exc:
                raise ListRejected("OpenPhone answered a body that is not JSON") from exc
            if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
                raise ListRejected("OpenPhone's list answer has no data list")
            return payload

        return pacing.call(attempt)

    token = page_token
    while True:
        payload = fetch(token)
        yield payload
        token = payload.get("nextPageToken") or None
        if not token:
            return
