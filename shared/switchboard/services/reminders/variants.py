"""Reminder A/B variants: each recipient's arm for the text (template | llm) and the lead time.

Pure and deterministic: the arm is a keyed hash of the recipient's AddressKeys id (never the number),
salted per dimension, so a recipient keeps its arms across runs and containers and the two dimensions
are independent. Off by default (REMINDER_VARIANTS=off on the worker): then nothing here is consulted
and a reminder is planned exactly as before, with the recipient's own lead time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard.services.reminders.rollout import keyed_bucket

TEXT_ARMS = ("template", "llm")
LEAD_ARMS = (5, 10, 15, 30, 60)  # minutes before the start


@dataclass(frozen=True)
class Variant:
    text: str  # the assigned text arm
    lead: int  # minutes

    def record(self, text_used: str, fallback: str | None = None) -> dict[str, Any]:
        """What the reminder item stores. `text` is the text actually sent (the template when the llm
        arm fell back, with `fallback` saying why), `assigned_text` the arm, so a comparison can tell
        the two apart."""
        recorded: dict[str, Any] = {"text": text_used, "assigned_text": self.text, "lead": self.lead}
        if fallback:
            recorded["fallback"] = fallback
        return recorded


def assign(recipient_id: str) -> Variant:
    """The recipient's arms; the same id always gets the same ones."""
    return Variant(
        text=TEXT_ARMS[keyed_bucket("variant-text", recipient_id, len(TEXT_ARMS))],
        lead=LEAD_ARMS[keyed_bucket("variant-lead", recipient_id, len(LEAD_ARMS))],
    )
