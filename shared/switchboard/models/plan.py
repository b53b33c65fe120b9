"""What processing one event decided: the writes the dal commits with the job's completion."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from switchboard.models.ai_usage import AiCall
from switchboard.models.drafts import DRAFT_SK, DraftState


class Consent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


@dataclass(frozen=True)
class ConsentChange:
    channel: str
    address: str
    consent: Consent
    at: str
    message_pk: str


@dataclass(frozen=True)
class ContactRollup:
    address: str
    at: str
    inbound: bool
    status: str | None
    pause_followups: bool


@dataclass(frozen=True)
class DraftReply:
    to: str
    channel: str
    text: str
    auto_send: bool  # approved by policy (models/drafts.py DraftState)
    provider: str = ""
    sender: str = ""  # our side of the conversation (number or mailbox): the reply's sender
    variant: str = "template"  # "llm" | "template"
    fallback: str | None = None  # why the template answered
    hold: str | None = None  # why it was not auto-approved (auto_send False)
    calls: tuple[AiCall, ...] = ()  # the model calls that drafted it (also in Plan.ai_calls)

    @property
    def state(self) -> DraftState:
        return DraftState.APPROVED if self.auto_send else DraftState.PENDING_REVIEW

    def stored_fields(self, draft_id: str) -> dict[str, Any]:
        """The stored draft's core fields: what the commit writes first and what enqueue_draft reads."""
        return {
            "pk": draft_id,
            "sk": DRAFT_SK,
            "to": self.to,
            "channel": self.channel,
            "provider": self.provider,
            "sender": self.sender,
            "text": self.text,
            "status": self.state,
        }


@dataclass(frozen=True)
class ConversationEntry:
    """The message's line in its contact's conversation (what later drafts read)."""

    address: str
    at: str
    inbound: bool
    text: str


@dataclass(frozen=True)
class DeliveryMerge:
    provider: str
    provider_message_id: str
    status: str
    rank: int
    at: str
    error_code: str | None


@dataclass
class Plan:
    """What processing one event decided; the dal commits it with the job's completion."""

    consent: ConsentChange | None = None
    rollup: ContactRollup | None = None
    draft: DraftReply | None = None
    conversation: ConversationEntry | None = None
    delivery: DeliveryMerge | None = None
    annotations: dict[str, Any] = field(default_factory=dict)
    ai_calls: list[AiCall] = field(default_factory=list)  # committed with the job as usage records
