"""Drafted replies: their states, and the send key every channel's sender uses for a draft's reply.

A draft's id is the pk of the inbound message it answers (one draft per message; the draft item is
pk = message pk, sk = "DRAFT"). pending_review -> approved -> sent | failed, or pending_review -> rejected;
auto-send approves by policy (`approved_by: "auto"`). The sender moves approved -> sent | failed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

DRAFT_SK = "DRAFT"


class DraftState(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    SENT = "sent"
    FAILED = "failed"
    REJECTED = "rejected"


class DraftEnds(Protocol):
    """Where a draft's send ends it (dal/drafts.py Drafts): approved -> sent | failed, only from approved."""

    def finish_send(self, pk: str, state: DraftState, now: float, **fields: str) -> bool: ...


def draft_send_key(draft_id: str) -> str:
    """The send key of a draft's reply: stable per draft, so a re-enqueue is deduplicated by the sender
    (a hash: the id holds the provider's message id, and send keys stay short)."""
    return f"draft#{hashlib.sha256(draft_id.encode()).hexdigest()[:32]}"


@dataclass(frozen=True)
class ConversationLine:
    """One earlier message of a conversation, as the drafts read it (new text only for e-mail)."""

    inbound: bool
    text: str
    at: str


@dataclass(frozen=True)
class Conversation:
    """A contact's roll-up times and recent messages (oldest first), read in one Query."""

    last_message_at: str | None = None
    last_inbound_at: str | None = None
    lines: tuple[ConversationLine, ...] = ()


__all__ = ["DRAFT_SK", "Conversation", "DraftEnds", "ConversationLine", "DraftState", "draft_send_key"]
