"""Delivery-status precedence: a merge only moves a message forward; late callbacks never regress it."""

from __future__ import annotations

# Twilio's progression (queued -> sending -> sent -> delivered | undelivered | failed, then read) and the
# e-mail providers' events on the same scale. Final outcomes share a rank: the first one to land wins.
STATUS_RANK: dict[str, int] = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "bounced": 4,
    "canceled": 4,
    "partially_delivered": 4,
    "read": 5,
    "opened": 5,
    "clicked": 6,
}
UNRANKED = 0


def status_rank(status: str) -> int:
    return STATUS_RANK.get(status.lower(), UNRANKED)
