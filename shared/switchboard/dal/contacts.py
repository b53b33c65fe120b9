"""The contact roll-up and drafted replies: the writes processing commits with a job's completion.

A contact is keyed on its address's keyed hash (dal/address_keys.py), never on the address. These are
transaction actions; dal/job_state.py's commit writes them atomically with PROCESSED.
"""

from __future__ import annotations

from typing import Any

from switchboard.dal.address_keys import AddressKeys
from switchboard.dal.items import to_attribute_values
from switchboard.dal.table import Table
from switchboard.models.plan import ContactRollup, DraftReply


class AddressKeyedTable(Table):
    """A table whose records are keyed on contacts' addresses (through their keyed hash)."""

    def __init__(
        self, table_name: str, dynamodb: Any = None, *, address_keys: AddressKeys | None = None
    ) -> None:
        super().__init__(table_name, dynamodb)
        self.address_keys = address_keys or AddressKeys()

    def contact_key(self, address: str) -> dict[str, str]:
        return {"pk": f"CONTACT#{self.address_keys.of(address)}", "sk": "PROFILE"}

    def suppression_key(self, channel: str, address: str) -> dict[str, str]:
        return {"pk": f"SUPPRESSION#{channel}#{self.address_keys.of(address)}", "sk": "CONSENT"}


class Contacts(AddressKeyedTable):
    def draft_action(self, record: dict[str, Any], draft: DraftReply, now: float) -> dict[str, Any]:
        item = {
            "pk": record["pk"],
            "sk": "DRAFT",
            "to": draft.to,
            "channel": draft.channel,
            "text": draft.text,
            "status": "auto_send_requested" if draft.auto_send else "pending_review",
            "created_at": int(now * 1000),
        }
        return {"Put": {"TableName": self.table_name, "Item": to_attribute_values(item)}}

    def rollup_action(self, rollup: ContactRollup, now: float, *, advance: bool) -> dict[str, Any]:
        """`advance` False counts an older message without moving the contact's "last message" back."""
        values: dict[str, Any] = {":one": 1, ":now": int(now * 1000)}
        sets = ["updated_at = :now"]
        names: dict[str, str] = {}
        condition = None
        if advance:
            values[":at"] = rollup.at
            sets.append("last_message_at = :at")
            if rollup.inbound:
                sets.append("last_inbound_at = :at")
            if rollup.status:
                values[":status"] = rollup.status
                sets.append("#status = :status")
                names["#status"] = "status"
            if rollup.pause_followups:
                values[":paused"] = True
                sets.append("followups_paused = :paused")
            condition = "attribute_not_exists(last_message_at) OR last_message_at <= :at"
        counters = "message_count :one" + (", inbound_count :one" if rollup.inbound else "")
        update = self.update_request(
            self.contact_key(rollup.address),
            "SET " + ", ".join(sets) + " ADD " + counters,
            values,
            condition,
            names or None,
        )
        return {"Update": {"TableName": self.table_name, **update}}
