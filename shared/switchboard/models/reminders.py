"""A reminder: one record per calendar event, holding the event version it was planned from and its state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from switchboard.models.ai_usage import AiCall


class ReminderState(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    QUEUED = "queued"  # handed to the outbound queue by the dispatcher; left the due index
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


# Once sent (or finally failed) a version is done: a later change that keeps the start never re-sends.
AFTER_SEND = frozenset({ReminderState.SENT, ReminderState.DELIVERED, ReminderState.FAILED})


@dataclass(frozen=True)
class ReminderPlan:
    """What the worker decided for one event version; the dal writes it conditionally on the version."""

    calendar: str
    event_id: str
    version: str
    state: ReminderState
    reason: str | None = None
    due_at: datetime | None = None
    local_day: str | None = None  # the recipient's local date of due_at (the daily limit's day)
    phone: str | None = None
    recipient: str | None = None  # digest of the phone number (the daily limit's key)
    zones: tuple[str, ...] = ()
    title: str = ""
    location: str | None = None
    start: str | None = None
    all_day: str | None = None
    text: str = ""
    moved_by_quiet_hours: bool = False
    variant: dict[str, Any] | None = None  # the A/B arms when REMINDER_VARIANTS=on (variants.py)
    ai_calls: tuple[AiCall, ...] = ()  # the model calls that wrote `text` (the llm arm), for telemetry
    changes: tuple[str, ...] = field(default_factory=tuple)  # created, rescheduled, text_regenerated, ...

    @property
    def send_key(self) -> str:
        """The sender's at-most-once key: one per event version."""
        return f"reminder:{self.calendar}:{self.event_id}:{self.version}"


@dataclass(frozen=True)
class DayStats:
    """A UTC day's reminder numbers (services/reminders/stats.py), for the day and per recipient."""

    day: str
    total: dict[str, Any]
    recipients: dict[str, dict[str, Any]]  # recipient id (AddressKeys, never the number) -> its row
