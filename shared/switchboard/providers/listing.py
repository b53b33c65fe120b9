"""Listing a provider's own messages (reconciliation): Twilio through the real SDK, OpenPhone with
`requests` (its messages per conversation, and the conversations themselves). Each yields (items of one
page, cursor of the next page or None), so a caller can stop between pages and resume later from the
cursor. Every request first takes a token from the injected bucket; a 429 waits Retry-After (else
exponential backoff) and a 5xx / connection error backs off, both for a bounded number of attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from switchboard.errors import MalformedPayload
from switchboard.models import Channel, Direction, Message
from switchboard.observability import logger
from switchboard.providers._common import canonical_event, media_items, parse_timestamp, string_field
from switchboard.providers.openphone import _DIRECTIONS as OPENPHONE_DIRECTIONS
from switchboard.providers.openphone import _phone as openphone_phone
from switchboard.providers.outbound import DEFAULT_OPENPHONE_API
from switchboard.providers.twilio import _channel_and_number as twilio_channel_and_number

T = TypeVar("T")
Page = tuple[list[Message], Any]  # (messages, cursor of the next page or None)
_TIMEOUT = (3.05, 20)  # connect, read (seconds)
_MAX_PARTICIPANTS = 10  # /v1/messages' participants limit


class Bucket(Protocol):
    def acquire(self) -> float: ...


class ListUnavailable(Exception):
    """The provider kept answering 429 / 5xx (or could not be reached) after every attempt."""


class ListRejected(Exception):
    """The provider refused the request (a 4xx other than 429): retrying will not help."""


class RetryableStatus(Exception):
    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"provider answered {status}")
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    max_retry_after_seconds: float = 60.0  # a Retry-After beyond this is clamped, not obeyed blindly

    def backoff(self, attempt: int) -> float:
        """Exponential: base * 2**(attempt-1), capped (attempt counts from 1)."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1)))

    def delay(self, attempt: int, retry_after: str | None, now: float) -> float:
        """Retry-After (seconds or an HTTP date) when present and readable, else the backoff."""
        waited = parse_retry_after(retry_after, now)
        if waited is None:
            return self.backoff(attempt)
        return min(self.max_retry_after_seconds, max(0.0, waited))


def parse_retry_after(value: str | None, now: float) -> float | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() - now


@dataclass
class Pacing:
    """What every list request goes through: the token bucket, then retries; injectable for tests."""

    bucket: Bucket | None = None
    policy: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    retries: int = 0  # retried requests so far (429 + 5xx), for the caller's stats
    throttled: int = 0  # 429s seen
    malformed: int = 0  # listed items that could not be mapped (skipped, counted as errors)

    def mapped(self, items: Iterator[Any] | list[Any], mapper: Callable[[Any], T]) -> list[T]:
        mapped: list[T] = []
        for item in items:
            try:
                mapped.append(mapper(item))
            except MalformedPayload as exc:
                self.malformed += 1
                logger.warning("listed item skipped: cannot map it", error=str(exc))
        return mapped

    def call(self, request: Callable[[], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            if self.bucket is not None:
                self.bucket.acquire()
            try:
                return request()
            except RetryableStatus as exc:
                if attempt >= self.policy.max_attempts:
                    raise ListUnavailable(f"{exc} after {attempt} attempts") from exc
                if exc.status == 429:
                    self.throttled += 1
                retry_after = exc.retry_after if exc.status == 429 else None
                delay = self.policy.delay(attempt, retry_after, self.clock())
            except ConnectionError as exc:
                if attempt >= self.policy.max_attempts:
                    raise ListUnavailable(f"{exc} after {attempt} attempts") from exc
                delay = self.policy.backoff(attempt)
            self.retries += 1
            self.sleep(delay)


def _header(response: Any, name: str) -> str | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get(name)
    return str(value) if value is not None else None


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


# --- Twilio ------------------------------------------------------------------------------------------


def twilio_message(resource: Any) -> Message:
    """A listed twilio MessageInstance (or a dict of the REST resource) as the canonical Message."""
    get = resource.get if isinstance(resource, Mapping) else lambda name: getattr(resource, name, None)
    sid = get("sid")
    sender, recipient = get("from_") or get("from"), get("to")
    if not sid or not sender:
        raise MalformedPayload("a listed Twilio message needs sid and from")
    channel, sender_number = twilio_channel_and_number(str(sender), field="from")
    recipient_number = twilio_channel_and_number(str(recipient), field="to")[1] if recipient else None
    try:
        num_media = int(get("num_media") or 0)
    except (TypeError, ValueError):
        num_media = 0
    when = get("date_sent") or get("date_created")
    occurred_at = when if isinstance(when, datetime) else _twilio_date(when)
    direction = Direction.INBOUND if str(get("direction") or "") == "inbound" else Direction.OUTBOUND
    raw = {
        "sid": str(sid),
        "direction": str(get("direction") or ""),
        "status": str(get("status") or ""),
        "error_code": str(get("error_code") or ""),
        "num_media": str(num_media),
        "account_sid": str(get("account_sid") or ""),
    }
    return canonical_event(
        Message,
        provider="twilio",
        provider_message_id=str(sid),
        channel=channel or (Channel.MMS if num_media else Channel.SMS),
        direction=direction,
        sender=sender_number,
        recipient=recipient_number,
        body=str(get("body") or ""),
        status=str(get("status") or "") or None,
        account_id=str(get("account_sid") or "") or None,
        occurred_at=occurred_at.astimezone(UTC) if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC),
        event_type="message.listed",
        raw=raw,
    )


def _twilio_date(value: Any) -> datetime:
    if isinstance(value, str) and value:
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return parse_timestamp(value, field="date_sent")
    raise MalformedPayload("a listed Twilio message needs date_sent or date_created")


def list_twilio_messages(
    credentials: Mapping[str, Any],
    *,
    after: datetime,
    before: datetime,
    page_size: int = 100,
    base_url: str | None = None,
    start_page_uri: str | None = None,
    pacing: Pacing | None = None,
    client: Any = None,
) -> Iterator[Page]:
    """Messages sent in [after, before], newest first, a page at a time; the cursor is the SDK's
    absolute next-page URL (resume with `start_page_uri`)."""
    import requests
    from twilio.base.exceptions import TwilioException, TwilioRestException

    from switchboard.providers.twilio_rest import twilio_client

    pacing = pacing or Pacing()
    if client is None:
        client = twilio_client(
            credentials["account_sid"], credentials["auth_token"], base_url=base_url, timeout=_TIMEOUT[1]
        )

    def fetch(get_page: Callable[[], Any]) -> Any:
        def attempt() -> Any:
            try:
                return get_page()
            except TwilioRestException as exc:
                if _retryable(exc.status):
                    last = getattr(client.http_client, "_test_only_last_response", None)
                    raise RetryableStatus(exc.status, _header(last, "Retry-After")) from exc
                raise ListRejected(f"Twilio answered {exc.status} ({exc.code})") from exc
            except TwilioException as exc:
                # Page loads raise TwilioException("Unable to fetch page", <the HTTP response>)
                response = exc.args[1] if len(exc.args) > 1 else None
                status = getattr(response, "status_code", None)
                if isinstance(status, int) and _retryable(status):
                    raise RetryableStatus(status, _header(response, "Retry-After")) from exc
                raise ListRejected(f"Twilio answered {status}: {exc.args[0] if exc.args else exc}") from exc
            except requests.exceptions.RequestException as exc:
                raise ConnectionError(f"Twilio list failed: {type(exc).__name__}") from exc

        return pacing.call(attempt)

    messages = client.api.v2010.account.messages
    if start_page_uri:
        page = fetch(partial(messages.get_page, start_page_uri))
    else:
        page = fetch(
            lambda: messages.page(date_sent_after=after, date_sent_before=before, page_size=page_size)
        )
    while True:
        items = pacing.mapped(page, twilio_message)
        next_url = page.next_page_url
        yield items, next_url
        if not next_url:
            return
        page = fetch(partial(messages.get_page, next_url))


# --- OpenPhone ---------------------------------------------------------------------------------------


def openphone_message(item: Mapping[str, Any]) -> Message:
    """A v1 REST message object (`to` a list) as the canonical Message; same mapping as its webhooks."""
    message = dict(item)
    if not string_field(message, "id") or not string_field(message, "from"):
        raise MalformedPayload("a listed OpenPhone message needs id and from")
    direction = OPENPHONE_DIRECTIONS.get(string_field(message, "direction") or "incoming")
    if direction is None:
        raise MalformedPayload("field 'direction' must be incoming or outgoing")
    media = media_items(message.get("media"), field="media")
    return canonical_event(
        Message,
        provider="openphone",
        provider_message_id=string_field(message, "id"),
        channel=Channel.MMS if media else Channel.SMS,
        direction=direction,
        sender=openphone_phone(message, "from"),
        recipient=openphone_phone(message, "to"),
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
                response = http.get(url, params=params, headers=headers, timeout=_TIMEOUT)
            except requests.exceptions.RequestException as exc:
                raise ConnectionError(f"OpenPhone list failed: {type(exc).__name__}") from exc
            if _retryable(response.status_code):
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
