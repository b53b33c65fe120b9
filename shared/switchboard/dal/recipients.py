"""Reminder recipients in the events table, under their own key space: pk `RCP#<address id of the number>`.

The id is the number's AddressKeys id (a keyed hash, docs/adr/0011), the same one contacts and
suppressions use, so one secret key protects every key built from a phone number.
"""

from __future__ import annotations

from typing import Any

from switchboard.dal.address_keys import AddressKeys
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.table import Table
from switchboard.models.recipients import Recipient

RECIPIENT_SK = "RECIPIENT"


def recipient_key(recipient_id: str) -> dict[str, str]:
    return {"pk": f"RCP#{recipient_id}", "sk": RECIPIENT_SK}


class Recipients(Table):
    def __init__(
        self, table_name: str, dynamodb: Any = None, *, address_keys: AddressKeys | None = None
    ) -> None:
        super().__init__(table_name, dynamodb)
        self.address_keys = address_keys or AddressKeys()

    def id_of(self, phone: str) -> str:
        """The recipient's id in every key (its record, its daily counters): never the number."""
        return self.address_keys.of(phone)

    def _item(self, recipient: Recipient, now: float) -> dict[str, Any]:
        return {
            **recipient_key(self.id_of(recipient.phone)),
            **recipient.model_dump(mode="json", exclude_none=True),
            "kind": "recipient",
            "updated_at": int(now * 1000),
        }

    def get(self, phone: str) -> Recipient | None:
        response, _ = self.call(
            "get_item", Key=to_attribute_values(recipient_key(self.id_of(phone))), ConsistentRead=True
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
