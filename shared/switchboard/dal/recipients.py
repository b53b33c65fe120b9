"""Reminder recipients in the events table, under their own key space: pk `RCP#<digest of the number>`."""

from __future__ import annotations

from typing import Any

from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.keys import address_digest
from switchboard.dal.table import Table
from switchboard.models.recipients import Recipient

RECIPIENT_SK = "RECIPIENT"


def recipient_key(phone: str, pepper: bytes | None = None) -> dict[str, str]:
    return {"pk": f"RCP#{address_digest(phone, pepper)}", "sk": RECIPIENT_SK}


class Recipients(Table):
    def __init__(self, table_name: str, dynamodb: Any = None, *, pepper: bytes | None = None) -> None:
        super().__init__(table_name, dynamodb)
        self.pepper = pepper

    def _item(self, recipient: Recipient, now: float) -> dict[str, Any]:
        return {
            **recipient_key(recipient.phone, self.pepper),
            **recipient.model_dump(mode="json", exclude_none=True),
            "kind": "recipient",
            "updated_at": int(now * 1000),
        }

    def get(self, phone: str) -> Recipient | None:
        response, _ = self.call(
            "get_item", Key=to_attribute_values(recipient_key(phone, self.pepper)), ConsistentRead=True
        )
        item = (response or {}).get("Item")
        if not item:
            return None
        return Recipient.model_validate(
            {k: v for k, v in from_item(item).items() if k in Recipient.model_fields}
        )

    def put(self, recipient: Recipient, now: float) -> None:
        item = self._item(recipient, now)
        self.call("put_item", Item=to_attribute_values(item))

    def put_if_absent(self, recipient: Recipient, now: float) -> bool:
        """Create a recipient learned from a booking; an existing one (an operator's settings) wins."""
        item = self._item(recipient, now)
        response, _ = self.call(
            "put_item", Item=to_attribute_values(item), ConditionExpression="attribute_not_exists(pk)"
        )
        return response is not None
