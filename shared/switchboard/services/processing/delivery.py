"""Delivery-status precedence: a merge only moves a message forward; late callbacks never regress it."""

from __future__ import annotations

from switchboard.models import Direction, Message, StatusUpdate
from switchboard.models.states import DeliveryStatus

# Twilio's progression (queued -> sending -> sent -> delivered | undelivered | failed, then read) and the
# e-mail providers' events on the same scale. Final outcomes share a rank: the first one to land wins.
STATUS_RANK: dict[str, int] = {
    DeliveryStatus.ACCEPTED: 1,
    DeliveryStatus.SCHEDULED: 1,
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.SENDING: 2,
    DeliveryStatus.SENT: 3,
    DeliveryStatus.DELIVERED: 4,
    DeliveryStatus.UNDELIVERED: 4,
    DeliveryStatus.FAILED: 4,
    DeliveryStatus.BOUNCED: 4,
    DeliveryStatus.CANCELED: 4,
    DeliveryStatus.PARTIALLY_DELIVERED: 4,
    DeliveryStatus.READ: 5,
    DeliveryStatus.OPENED: 5,
    DeliveryStatus.CLICKED: 6,
}
UNRANKED = 0
FINAL_RANK = STATUS_RANK[
    DeliveryStatus.DELIVERED
]  # from here on a status is an outcome, not a step on the way


def status_rank(status: str) -> int:
    return STATUS_RANK.get(status.lower(), UNRANKED)


FAILED_OUTCOMES = frozenset(
    {DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED, DeliveryStatus.BOUNCED, DeliveryStatus.CANCELED}
)


def final_outcome(status: str) -> str | None:
    """ "delivered" / "failed" for a final status (what the delivery-rate alarm counts), else None."""
    status = status.lower()
    if status == DeliveryStatus.DELIVERED:
        return "delivered"
    return "failed" if status in FAILED_OUTCOMES else None


def listed_final_status(message: Message) -> StatusUpdate | None:
    """The status update an outbound message's final status in a provider's list stands for: the same
    record (provider, message id, status) its status callback would have stored, so a callback that was
    missed is backfilled and one that arrived is recognised. None for inbound and unfinished messages."""
    status = (message.status or "").lower()
    if message.direction != Direction.OUTBOUND or status_rank(status) < FINAL_RANK:
        return None
    error_code = message.raw.get("error_code") or None
    return StatusUpdate(
        provider=message.provider,
        provider_message_id=message.provider_message_id,
        channel=message.channel,
        occurred_at=message.occurred_at,
        event_type="status.listed",
        status=status,
        error_code=str(error_code) if error_code else None,
        sender=message.sender,
        recipient=message.recipient,
        raw={"status": status, **({"error_code": str(error_code)} if error_code else {})},
    )
