"""Drafted replies: their states and the send key of a draft's one send (i-drafts owns this module)."""

from __future__ import annotations

from enum import StrEnum
from hashlib import sha256


class DraftState(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    SENT = "sent"
    FAILED = "failed"
    REJECTED = "rejected"


def draft_send_key(draft_id: str) -> str:
    return "draft#" + sha256(draft_id.encode()).hexdigest()[:32]
