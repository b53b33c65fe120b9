"""GoHighLevel (LeadConnector): InboundMessage and OutboundMessage Marketplace webhooks.

GHL signs the raw body twice while it retires the old scheme: `x-ghl-signature` is Ed25519 (current,
preferred), `x-wh-signature` RSA PKCS#1 v1.5 with SHA-256 (legacy). With an Ed25519 key configured an
`x-ghl-signature` header decides alone; RSA is only the fallback for deliveries without one. The body's
own `timestamp` is held to the 300 s window. GHL's published Ed25519 key is
GHL_PUBLISHED_ED25519_PUBLIC_KEY_PEM: configure it as `ed25519_public_key_pem`.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from switchboard.errors import MalformedPayload, NotConfigured, SignatureInvalid
from switchboard.models import Channel, Direction, Message
from switchboard.providers._common import (
    canonical_event,
    check_timestamp,
    decode_base64,
    media_items,
    normalize_phone,
    parse_timestamp,
    require_fields,
    require_secret,
    string_field,
    timestamp_or_received,
)
from switchboard.webhook_request import JSON, WebhookRequest

SECRET_NAME = "ghl"  # noqa: S105 - a section name, not a secret
CONTENT_TYPES = frozenset({JSON})
ED25519_HEADER = "x-ghl-signature"
RSA_HEADER = "x-wh-signature"
GHL_PUBLISHED_ED25519_PUBLIC_KEY_PEM = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=
-----END PUBLIC KEY-----
"""
_ED25519_SIGNATURE_BYTES = 64
_MESSAGE_TYPES = {"InboundMessage": Direction.INBOUND, "OutboundMessage": Direction.OUTBOUND}
_DIRECTIONS = {direction.value: direction for direction in Direction}
_CHANNELS = {"SMS": Channel.SMS, "EMAIL": Channel.EMAIL, "WHATSAPP": Channel.WHATSAPP, "CALL": Channel.CALL}
_PHONE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.CALL})


def _configured(secrets: dict[str, Any], name: str) -> str | None:
    value = secrets.get(name)
    return value if isinstance(value, str) and value else None


@lru_cache(maxsize=8)
def _public_key(pem: str, name: str) -> Any:
    """Parsed once per container: PEM parsing costs more than the signature check itself."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_pem_public_key  # lazy: cold start

    try:
        return load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise NotConfigured(f"{name} is not a PEM public key") from exc


def _verify_ed25519(pem: str, header: str, body: bytes) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = _public_key(pem, "ed25519_public_key_pem")
    if not isinstance(key, Ed25519PublicKey):
        raise NotConfigured("ed25519_public_key_pem is not an Ed25519 key")
    signature = decode_base64(header, what=ED25519_HEADER)
    if len(signature) != _ED25519_SIGNATURE_BYTES:
        raise SignatureInvalid(f"{ED25519_HEADER} must decode to {_ED25519_SIGNATURE_BYTES} bytes")
    try:
        key.verify(signature, body)
    except InvalidSignature as exc:
        raise SignatureInvalid(f"{ED25519_HEADER} does not match") from exc


def _verify_rsa(pem: str, header: str, body: bytes) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.hashes import SHA256

    key = _public_key(pem, "rsa_public_key_pem")
    if not isinstance(key, RSAPublicKey):
        raise NotConfigured("rsa_public_key_pem is not an RSA key")
    signature = decode_base64(header, what=RSA_HEADER)
    try:
        key.verify(signature, body, PKCS1v15(), SHA256())
    except (InvalidSignature, ValueError) as exc:
        raise SignatureInvalid(f"{RSA_HEADER} does not match") from exc


def _check_body_timestamp(request: WebhookRequest, now: float) -> None:
    """GHL puts its send time in the signed body; a replay outside the window stops here."""
    value = request.json_object().get("timestamp")
    if value in (None, ""):
        return
    check_timestamp(parse_timestamp(value, field="timestamp").timestamp(), now)


def verify(request: WebhookRequest, secrets: dict[str, Any], now: float) -> None:
    require_secret(secrets, "ed25519_public_key_pem", "rsa_public_key_pem")  # neither key: fail closed
    ed25519_pem = _configured(secrets, "ed25519_public_key_pem")
    rsa_pem = _configured(secrets, "rsa_public_key_pem")
    ed25519_signature = request.header(ED25519_HEADER)
    rsa_signature = request.header(RSA_HEADER)
    if ed25519_pem and ed25519_signature is not None:
        _verify_ed25519(ed25519_pem, ed25519_signature, request.body)
    elif rsa_pem and rsa_signature is not None:
        _verify_rsa(rsa_pem, rsa_signature, request.body)
    else:
        raise SignatureInvalid(f"missing {ED25519_HEADER} (or {RSA_HEADER} for a configured RSA key) header")
    _check_body_timestamp(request, now)


def _party(payload: dict[str, Any], name: str, channel: Channel) -> str | None:
    """E-mail addresses as sent, phone channels in E.164, anything else (profile ids) as sent."""
    value = string_field(payload, name)
    if not value:
        return None
    if "@" in value or channel not in _PHONE_CHANNELS:
        return value.strip()
    return normalize_phone(value, field=name)


def parse(request: WebhookRequest, received_at: float) -> Message | None:
    payload = request.json_object()
    direction = _MESSAGE_TYPES.get(string_field(payload, "type") or "")
    if direction is None:
        return None  # contacts, opportunities, appointments...: acknowledged and ignored
    require_fields(payload, "messageId")  # the idempotency key must be a provider fact
    direction = _DIRECTIONS.get((string_field(payload, "direction") or "").lower(), direction)
    channel = _CHANNELS.get((string_field(payload, "messageType") or "").upper(), Channel.OTHER)
    contact, location = string_field(payload, "contactId"), string_field(payload, "locationId")
    inbound = direction is Direction.INBOUND
    sender = _party(payload, "from", channel) or (contact if inbound else location)
    if not sender:
        raise MalformedPayload("missing required field(s): from")
    return canonical_event(
        Message,
        provider="ghl",
        provider_message_id=string_field(payload, "messageId"),
        channel=channel,
        direction=direction,
        sender=sender,
        recipient=_party(payload, "to", channel) or (location if inbound else contact),
        body=string_field(payload, "body") or "",
        media=media_items(payload.get("attachments"), field="attachments"),
        status=string_field(payload, "status"),
        thread_id=string_field(payload, "conversationId"),
        account_id=location,
        occurred_at=timestamp_or_received(payload.get("dateAdded"), received_at, field="dateAdded"),
        event_type=payload["type"],
        raw=payload,
    )


def signature_headers(url: str, body: bytes, client_secrets: dict[str, str], now: float) -> dict[str, str]:
    """Headers GHL would send: an Ed25519 `x-ghl-signature` over the raw body (no URL, no time)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key: Any = load_pem_private_key(client_secrets["ed25519_private_key_pem"].encode(), password=None)
    return {ED25519_HEADER: base64.b64encode(key.sign(body)).decode()}
