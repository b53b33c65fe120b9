"""The send request that answers a stored inbound message in its own thread, on its own provider.

Each reply API needs references only the inbound webhook gave us (GHL's contactId, SmartLead's stats id
and the answered Message-ID, Instantly's email id and mailbox, Unipile's chat id): they are read from the
stored record's raw payload. A message that lacks them raises ReplyNotPossible, never a half request.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from switchboard.errors import ReplyNotPossible, first_problem
from switchboard.models.drafts import draft_send_key
from switchboard.models.outbound import SendRequest

REPLY_PROVIDERS = ("ghl", "smartlead", "instantly", "unipile")
_GHL_TYPES = {"sms": "SMS", "whatsapp": "WhatsApp", "email": "Email"}
QUOTED_BODY_LIMIT = 10_000  # SmartLead's reply_email_body is the quoted original: its start is enough


def _raw(record: Mapping[str, Any]) -> dict[str, Any]:
    """The webhook payload as stored inline (`raw`) or compressed (`raw_z`); one in S3 is not read here."""
    if "raw" in record:
        value = record["raw"]
        payload = json.loads(value) if isinstance(value, str) else value
    elif "raw_z" in record:
        payload = json.loads(zlib.decompress(getattr(record["raw_z"], "value", record["raw_z"])))
    else:
        raise ReplyNotPossible("the message's raw payload is not in its record (load it from S3 first)")
    if not isinstance(payload, dict):
        raise ReplyNotPossible("the message's raw payload is not a JSON object")
    return payload


def _text(payload: Mapping[str, Any], *path: str) -> str | None:
    value: Any = payload
    for name in path:
        value = value.get(name) if isinstance(value, Mapping) else None
    return (
        str(value) if isinstance(value, str | int) and not isinstance(value, bool) and value != "" else None
    )


def _required(payload: Mapping[str, Any], what: str, *path: str) -> str:
    value = _text(payload, *path)
    if value is None:
        raise ReplyNotPossible(f"the stored message has no {what} ({'.'.join(path)}) to reply with")
    return value


def _ghl(record: Mapping[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    channel = str(record.get("channel"))
    if channel not in _GHL_TYPES:
        raise ReplyNotPossible(f"GHL replies go out as SMS, WhatsApp or Email, not {channel}")
    thread = {"contactId": _required(raw, "contact id", "contactId"), "type": _GHL_TYPES[channel]}
    if channel == "email":
        thread["replyMessageId"] = _required(raw, "message id", "messageId")
        if thread_id := _text(raw, "threadId") or _text(raw, "emailMessageId"):
            thread["threadId"] = thread_id
    return {"thread": thread, "subject": _reply_subject(_text(raw, "subject"))}


def _smartlead(record: Mapping[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    quoted = _text(raw, "reply_message", "html") or _text(raw, "reply_message", "text") or ""
    thread = {
        "campaign_id": _required(raw, "campaign id", "campaign_id"),
        "email_stats_id": _required(raw, "stats id", "stats_id"),
        "reply_message_id": _required(raw, "reply Message-ID", "reply_message", "message_id"),
        "reply_email_time": _text(raw, "reply_message", "time") or _required(raw, "time", "event_timestamp"),
        "reply_email_body": quoted[:QUOTED_BODY_LIMIT] or str(record.get("body") or "") or " ",
    }
    return {"thread": thread, "subject": _reply_subject(_text(raw, "subject"))}


def _instantly(record: Mapping[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    thread = {
        "reply_to_uuid": _required(raw, "email id", "email_id"),
        "eaccount": _required(raw, "sending mailbox", "email_account"),
    }
    return {"thread": thread, "subject": _reply_subject(_required(raw, "subject", "reply_subject"))}


def _unipile(record: Mapping[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    thread = {"chat_id": _required(raw, "chat id", "chat_id")}
    if account := _text(raw, "account_id"):
        thread["account_id"] = account
    return {"thread": thread}


def _reply_subject(subject: str | None) -> str | None:
    if subject is None:
        return None
    return subject if subject[:3].lower() == "re:" else f"Re: {subject}"


_THREADS: dict[str, Callable[[Mapping[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "ghl": _ghl,
    "smartlead": _smartlead,
    "instantly": _instantly,
    "unipile": _unipile,
}


def reply_request(message_record: dict[str, Any], draft: dict[str, Any]) -> SendRequest:
    """The auto-reply SendRequest answering `message_record` (a stored inbound message) with `draft`."""
    provider = str(message_record.get("provider"))
    threaded = _THREADS.get(provider)
    if threaded is None:
        raise ReplyNotPossible(f"no reply API for provider {provider!r}")
    if message_record.get("direction") != "inbound":
        raise ReplyNotPossible("only an inbound message can be replied to")
    draft_pk = str(draft.get("pk") or message_record.get("pk") or "")
    if not draft_pk:
        raise ReplyNotPossible("the draft has no pk")
    raw = _raw(message_record)
    try:
        return SendRequest(
            send_key=draft_send_key(draft_pk),
            provider=provider,  # one of _THREADS' keys
            sender=str(message_record.get("recipient") or message_record.get("account_id") or provider),
            recipient=str(draft.get("to") or message_record.get("sender") or ""),
            body=str(draft.get("text") or ""),
            channel=str(message_record.get("channel")),  # validated by SendRequest
            purpose="auto_reply",
            draft_pk=draft_pk,
            **threaded(message_record, raw),
        )
    except ValidationError as invalid:
        raise ReplyNotPossible(f"the reply is not sendable: {first_problem(invalid)}") from invalid
