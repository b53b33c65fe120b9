"""The intent / sentiment a classifier gives an inbound reply."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from switchboard.models.ai_usage import AiCall


class Intent(StrEnum):
    INTERESTED = "Interested"
    MEETING_REQUESTED = "Meeting Requested"
    NOT_INTERESTED = "Not Interested"
    NEUTRAL = "Neutral"
    OUT_OF_OFFICE = "Out of Office"
    OPT_OUT = "Opt-out"


POSITIVE = frozenset({Intent.INTERESTED, Intent.MEETING_REQUESTED})
NEGATIVE = frozenset({Intent.NOT_INTERESTED, Intent.OPT_OUT})


@dataclass(frozen=True)
class Classification:
    intent: Intent
    sentiment: str  # positive | negative | neutral
    classifier: str
    fallback: str | None = None  # why the rules answered instead of the model (its call's outcome)
    calls: tuple[AiCall, ...] = ()  # the model calls this classification made, for telemetry

    @classmethod
    def of(cls, intent: Intent, classifier: str) -> Classification:
        sentiment = "positive" if intent in POSITIVE else "negative" if intent in NEGATIVE else "neutral"
        return cls(intent=intent, sentiment=sentiment, classifier=classifier)


__all__ = ["NEGATIVE", "POSITIVE", "Classification", "Intent"]
