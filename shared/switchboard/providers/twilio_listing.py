"""Listing Twilio's messages (reconciliation) through the real SDK, a page at a time; a listed message
is mapped with the webhooks' own number parsing (providers/twilio.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

from switchboard.errors import MalformedPayload
from switchboard.models import Channel, Direction, Message
from switchboard.providers._common import canonical_event, parse_timestamp
from switchboard.providers.listing import (
    LIST_TIMEOUT,
    ListRejected,
    Pacing,
    Page,
    RetryableStatus,
    is_retryable,
    response_header,
)
from switchboard.providers.twilio import channel_and_number


def twilio_message(resource: Any) -> Message:
    """A listed twilio MessageInstance (or a dict of the REST resource) as the canonical Message."""
    get = resource.get if isinstance(resource, Mapping) else lambda name: getattr(resource, name, None)
    sid = get("sid")
    sender, recipient = get("from_") or get("from"), get("to")
    if not sid or not sender:
        raise MalformedPayload("a listed Twilio message needs sid and from")
    channel, sender_number = channel_and_number(str(sender), field="from")
    recipient_number = channel_and_number(str(recipient), field="to")[1] if recipient else None
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
            credentials["account_sid"], credentials["auth_token"], base_url=base_url, timeout=LIST_TIMEOUT[1]
        )

    def fetch(get_page: Callable[[], Any]) -> Any:
        def attempt() -> Any:
            try:
                return get_page()
            except TwilioRestException as exc:
                # Its public API has no response headers (and page loads do not raise it): backoff only
                if is_retryable(exc.status):
                    raise RetryableStatus(exc.status) from exc
                raise ListRejected(f"Twilio answered {exc.status} ({exc.code})") from exc
            except TwilioException as exc:
                # Page loads raise TwilioException("Unable to fetch page", <twilio.http.response.Response>):
                # the SDK's public response, whose headers carry Retry-After
                response = exc.args[1] if len(exc.args) > 1 else None
                status = getattr(response, "status_code", None)
                if isinstance(status, int) and is_retryable(status):
                    raise RetryableStatus(status, response_header(response, "Retry-After")) from exc
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
