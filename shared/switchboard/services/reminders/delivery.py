"""Status callbacks -> the reminder they belong to: sent -> delivered (or failed), with the time.

The sender links a reminder's provider message id on that message's DELIVERY record; the worker's
delivery merge returns the merged record, so a status that moved the message forward moves its
reminder too, on the reminder's version (a reminder replanned since is left alone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from switchboard.models.plan import DeliveryMerge
from switchboard.models.reminders import ReminderState
from switchboard.models.states import DeliveryStatus
from switchboard.observability import metrics

_DELIVERED = {DeliveryStatus.DELIVERED, DeliveryStatus.READ}
_FAILED = {DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED}


class ReminderMoves(Protocol):
    def record_delivery(
        self, reminder_pk: str, version: str, state: ReminderState, now: float, **fields: Any
    ) -> bool: ...


def instant_ms(at: str, fallback: float) -> int:
    """An ISO time (a provider's, or a stored one) in Unix ms; `fallback` (seconds) when unreadable."""
    try:
        return int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return int(fallback * 1000)


def merged_status(delivery: dict[str, Any]) -> DeliveryMerge:
    """The status a stored DELIVERY record holds, as the merge that put it there."""
    return DeliveryMerge(
        provider="",
        provider_message_id="",
        status=str(delivery.get("delivery_status", "")),
        rank=int(delivery.get("rank", 0)),
        at=str(delivery.get("updated_at", "")),
        error_code=delivery.get("error_code"),
    )


class ReminderDeliveries:
    def __init__(self, store: ReminderMoves) -> None:
        self.store = store

    def record(self, merged: dict[str, Any], merge: DeliveryMerge, *, now: float) -> bool:
        status = merge.status.lower()
        pk, version = str(merged["reminder_pk"]), str(merged.get("reminder_version", ""))
        if status in _DELIVERED:
            at = instant_ms(merge.at, now)
            if not self.store.record_delivery(pk, version, ReminderState.DELIVERED, now, delivered_at=at):
                return False
            metrics.add_metric(name="RemindersDelivered", unit="Count", value=1)
            return True
        if status in _FAILED:
            fields: dict[str, Any] = {
                "failed_at": instant_ms(merge.at, now),
                "error": f"provider status {status}",
            }
            if merge.error_code:
                fields["error_code"] = merge.error_code
            if not self.store.record_delivery(pk, version, ReminderState.FAILED, now, **fields):
                return False
            metrics.add_metric(name="RemindersUndelivered", unit="Count", value=1)
            return True
        return False
