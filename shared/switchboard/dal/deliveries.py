"""The delivery merge: one DELIVERY record per message that only moves forward by the status's rank."""

from __future__ import annotations

from typing import Any

from switchboard.dal.items import from_item
from switchboard.dal.table import Table
from switchboard.models.plan import DeliveryMerge


def delivery_key(provider: str, provider_message_id: str) -> dict[str, str]:
    return {"pk": f"EVT#{provider}#{provider_message_id}", "sk": "DELIVERY"}


class Deliveries(Table):
    def merge_delivery(self, merge: DeliveryMerge) -> bool:
        """Move the message's delivery status forward by rank; a late or equal-rank status changes nothing."""
        return self.merge_delivery_returning(merge) is not None

    def merge_delivery_returning(self, merge: DeliveryMerge) -> dict[str, Any] | None:
        """The merge; the merged DELIVERY record (with the sender's reminder link, if any), None if stale."""
        if merge.rank <= 0:
            return None
        values: dict[str, Any] = {":status": merge.status, ":rank": merge.rank, ":at": merge.at}
        expression = "SET delivery_status = :status, #rank = :rank, updated_at = :at"
        if merge.error_code:
            expression += ", error_code = :code"
            values[":code"] = merge.error_code
        # Any status proves the callback loop works: the send leaves the AwaitingCallbacks index here.
        expression += " REMOVE awaiting_callback, awaiting_since"
        response, _ = self.update(
            delivery_key(merge.provider, merge.provider_message_id),
            expression,
            values,
            condition="attribute_not_exists(#rank) OR #rank < :rank",
            names={"#rank": "rank"},
            ReturnValues="ALL_NEW",
        )
        return from_item(response["Attributes"]) if response else None
