"""Twilio: inbound SMS/MMS/WhatsApp and status-callback webhooks.

Signatures are checked with twilio's own RequestValidator against the public URL Twilio called:
form bodies are signed over URL + sorted params; JSON bodies over the URL carrying `bodySHA256`.
"""

from __future__ import annotations

from typing import Any

from switchboard.errors import MalformedPayload, SignatureInvalid
from switchboard.models import Channel, Direction, Media, Message, StatusUpdate
from switchboard.providers._common import (
    canonical_event,
    normalize_phone,
    received_time,
    require_fields,
    require_secret,
)
from switchboard.webhook_request import FORM, JSON, WebhookRequest

SECRET_NAME = "twilio"
CONTENT_TYPES = frozenset({FORM, JSON})
SIGNATURE_HEADER = "x-twilio-signature"
_WHATSAPP_PREFIX = "whatsapp:"


def _validator(auth_token: str) -> Any:
    from twilio.request_validator import RequestValidator  # lazy: ~35 ms, only on Twilio routes

    return RequestValidator(auth_token)


def verify(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    """Twilio signs no timestamp, so `now` is unused; replays are absorbed by idempotent storage."""
    validator = _validator(require_secret(secrets, "auth_token"))
    signature = request.header(SIGNATURE_HEADER)
    if not signature:
        raise SignatureInvalid(f"missing {SIGNATURE_HEADER} header")
    if request.content_type == JSON:
        if "bodySHA256" not in request.query:
            raise SignatureInvalid("JSON webhooks must carry bodySHA256 in the URL")
        params: Any = request.text()
    else:
        params = _MultiValue(request.form())
    if not validator.validate(request.url, params, signature):
        raise SignatureInvalid("X-Twilio-Signature does not match")


class _MultiValue(dict):
    """RequestValidator reads repeated form fields through `getlist`, as Django's QueryDict offers."""

    def getlist(self, key: str) -> list[str]:
        return list(self[key])


def _payload(request: WebhookRequest) -> dict[str, str]:
    if request.content_type == JSON:
        data = request.json_object()
        return {key: "" if value is None else str(value) for key, value in data.items()}
    return {key: values[0] for key, values in request.form().items()}


def _channel_and_number(value: str, *, field: str) -> tuple[Channel | None, str]:
    if value.lower().startswith(_WHATSAPP_PREFIX):
        return Channel.WHATSAPP, normalize_phone(value[len(_WHATSAPP_PREFIX) :], field=field)
    return None, normalize_phone(value, field=field)


def _media(payload: dict[str, str]) -> tuple[Media, ...]:
    try:
        count = int(payload.get("NumMedia") or 0)
    except ValueError as exc:
        raise MalformedPayload("NumMedia must be a whole number") from exc
    if not 0 <= count <= 10:
        raise MalformedPayload("NumMedia must be between 0 and 10")
    media = []
    for index in range(count):
        url = payload.get(f"MediaUrl{index}")
        if not url:
            raise MalformedPayload(f"NumMedia is {count} but MediaUrl{index} is missing")
        media.append(Media(url=url, content_type=payload.get(f"MediaContentType{index}") or None))
    return tuple(media)


def parse_message(request: WebhookRequest, received_at: float) -> Message:
    payload = _payload(request)
    sid = payload.get("MessageSid") or payload.get("SmsMessageSid") or payload.get("SmsSid")
    if not sid:
        raise MalformedPayload("missing required field(s): MessageSid")
    require_fields(payload, "From", "To")
    channel, sender = _channel_and_number(payload["From"], field="From")
    _, recipient = _channel_and_number(payload["To"], field="To")
    media = _media(payload)
    if channel is None:
        channel = Channel.MMS if media else Channel.SMS
    return canonical_event(
        Message,
        provider="twilio",
        provider_message_id=sid,
        channel=channel,
        direction=Direction.INBOUND,
        sender=sender,
        recipient=recipient,
        body=payload.get("Body", ""),
        media=media,
        status=payload.get("SmsStatus") or "received",
        account_id=payload.get("AccountSid"),
        opt_out_type=payload.get("OptOutType") or None,
        occurred_at=received_time(received_at),
        event_type="message.received",
        raw=dict(payload),
    )


def parse_status(request: WebhookRequest, received_at: float) -> StatusUpdate:
    payload = _payload(request)
    sid = payload.get("MessageSid") or payload.get("SmsSid")
    status = payload.get("MessageStatus") or payload.get("SmsStatus")
    if not sid or not status:
        raise MalformedPayload("missing required field(s): MessageSid, MessageStatus")
    channel, recipient = (None, None)
    if payload.get("To"):
        channel, recipient = _channel_and_number(payload["To"], field="To")
    sender = None
    if payload.get("From"):
        _, sender = _channel_and_number(payload["From"], field="From")
    return canonical_event(
        StatusUpdate,
        provider="twilio",
        provider_message_id=sid,
        channel=channel or Channel.SMS,
        status=status.lower(),
        error_code=payload.get("ErrorCode") or None,
        sender=sender,
        recipient=recipient,
        occurred_at=received_time(received_at),
        event_type="message.status",
        raw=dict(payload),
    )


def sign(url: str, params: dict[str, str] | dict[str, list[str]], auth_token: str) -> str:
    """X-Twilio-Signature over a URL and its form params (for a JSON body: {} and bodySHA256 in the URL)."""
    return str(_validator(auth_token).compute_signature(url, _MultiValue(_as_lists(params))))


def _as_lists(params: dict[str, str] | dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: value if isinstance(value, list) else [value] for key, value in params.items()}


def signature_headers(url: str, body: bytes, client_secrets: dict[str, str], now: float) -> dict[str, str]:
    """Headers Twilio would send with this form-encoded body (tests, sample events, the sandbox)."""
    from urllib.parse import parse_qs

    params = parse_qs(body.decode(), keep_blank_values=True)
    return {SIGNATURE_HEADER: sign(url, params, client_secrets["auth_token"])}


def channel_and_number(value: str, *, field: str) -> tuple[Channel | None, str]:
    """A `From`/`To` value as the webhooks read it: (WHATSAPP or None, E.164); the message list reuses it."""
    return _channel_and_number(value, field=field)
