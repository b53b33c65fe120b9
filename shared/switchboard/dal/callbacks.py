"""Sends still waiting for their first status callback: a sparse index over the DELIVERY records.

The sender marks a sent message's DELIVERY record `awaiting_callback` (only while no status has been
merged into it); the delivery merge removes the mark in the same write that records the first status.
So the AwaitingCallbacks index holds exactly the sends whose callback has not arrived, and the
periodic check counts the old ones per provider with one Query each (docs/adr/0016).
"""

from __future__ import annotations

from switchboard.dal.deliveries import delivery_key
from switchboard.dal.table import Table

INDEX = "AwaitingCallbacks"
MARK = "awaiting_callback"  # the index's hash key: AWAIT#<provider>
SINCE = "awaiting_since"  # its range key: when the send was accepted (epoch ms)


def awaiting_partition(provider: str) -> str:
    return f"AWAIT#{provider}"


class AwaitedCallbacks(Table):
    def expect(self, provider: str, provider_message_id: str, sent_at: float) -> bool:
        """Mark the send as waiting; False when a status already arrived (the callback beat the mark)."""
        response, _ = self.update(
            delivery_key(provider, provider_message_id),
            "SET #mark = :mark, #since = :since",
            {":mark": awaiting_partition(provider), ":since": int(sent_at * 1000)},
            condition="attribute_not_exists(#rank)",
            names={"#mark": MARK, "#since": SINCE, "#rank": "rank"},
        )
        return response is not None

    def count_waiting(self, provider: str, *, sent_after: float, sent_before: float) -> int:
        """How many of the provider's sends accepted in [sent_after, sent_before] still wait."""
        pages = self.pages(
            "query",
            IndexName=INDEX,
            KeyConditionExpression="#mark = :mark AND #since BETWEEN :after AND :before",
            ExpressionAttributeNames={"#mark": MARK, "#since": SINCE},
            ExpressionAttributeValues={
                ":mark": {"S": awaiting_partition(provider)},
                ":after": {"N": str(int(sent_after * 1000))},
                ":before": {"N": str(int(sent_before * 1000))},
            },
            Select="COUNT",
        )
        return sum(int(page.get("Count", 0)) for page in pages)
