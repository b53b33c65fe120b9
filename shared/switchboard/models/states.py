"""The names of every stored state: StrEnums, so each stored string is exactly its member's value.

A job's FAILED and a send's FAILED are different facts, hence two enums: a FAILED job is retrying or,
with `exhausted`, dead-lettered (a redrive brings it back); a FAILED send is final (its attempts ran out).
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """A stored event's processing job (dal/job_state.py moves it by conditional writes)."""

    RECEIVED = "RECEIVED"
    PROCESSING = "PROCESSING"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"  # retrying, or dead-lettered when the record also says exhausted


class SendState(StrEnum):
    """An outbound send record (dal/outbound_records.py): at most one provider call per send key."""

    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    RETRY = "RETRY"
    REJECTED = "REJECTED"
    SUPPRESSED = "SUPPRESSED"
    AMBIGUOUS = "AMBIGUOUS"
    FAILED = "FAILED"  # final: attempts exhausted, dead-lettered; never sent again


class DeliveryStatus(StrEnum):
    """A message's delivery status as the providers report it (lower case, Twilio's and e-mail's scale)."""

    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    CANCELED = "canceled"
    PARTIALLY_DELIVERED = "partially_delivered"
    READ = "read"
    OPENED = "opened"
    CLICKED = "clicked"
