"""The contact roll-up and drafted replies: the writes processing commits with a job's completion.

A contact is keyed on its address's keyed hash (dal/address_keys.py), never on the address. These are
transaction actions; dal/job_state.py's commit writes them atomically with PROCESSED.
"""

from __future__ import annotations

from typing import Any

from switchboard.dal.address_keys import AddressKeys
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.table import Table
from switchboard.models.drafts import Conversation, ConversationLine
from switchboard.models.plan import ContactRollup, ConversationEntry, DraftReply

MAX_CONVERSATION_TEXT = 1000  # a line of context for drafts, never the record of the message


def suppression_key_of(channel: str, address_id: str) -> dict[str, str]:
    """The suppression record of an address already keyed (a recipient's id is its number's)."""
    return {"pk": f"SUPPRESSION#{channel}#{address_id}", "sk": "CONSENT"}


class AddressKeyedTable(Table):
    """A table whose records are keyed on contacts' addresses (through their keyed hash)."""

    def __init__(
        self, table_name: str, dynamodb: Any = None, *, address_keys: AddressKeys | None = None
    ) -> None:
        super().__init__(table_name, dynamodb)
        self.address_keys = address_keys or AddressKeys()

    def contact_key(self, address: str) -> dict[str, str]:
        return {"pk": f"CONTACT#{self.address_keys.of(address)}", "sk": "PROFILE"}

    def conversation_key(self, address: str, at: str, message_pk: str) -> dict[str, str]:
        # In the contact's partition, sorted before "PROFILE": one Query newest-first reads both.
        return {"pk": f"CONTACT#{self.address_keys.of(address)}", "sk": f"MSG#{at}#{message_pk}"}

    def suppression_key(self, channel: str, address: str) -> dict[str, str]:
        return suppression_key_of(channel, self.address_keys.of(address))


class Contacts(AddressKeyedTable):
    def draft_action(self, record: dict[str, Any], draft: DraftReply, now: float) -> dict[str, Any]:
        item: dict[str, Any] = {
            **draft.stored_fields(record["pk"]),
            "variant": draft.variant,
            "created_at": int(now * 1000),
        }
        if draft.auto_send:
            item.update(approved_by="auto", approved_at=int(now * 1000))
        optional = {"fallback": draft.fallback, "auto_send_hold": draft.hold}
        item.update({name: value for name, value in optional.items() if value})
        return {"Put": {"TableName": self.table_name, "Item": to_attribute_values(item)}}

    def conversation_action(self, record: dict[str, Any], entry: ConversationEntry) -> dict[str, Any]:
        item = {
            **self.conversation_key(entry.address, entry.at, record["pk"]),
            "inbound": entry.inbound,
            "text": entry.text[:MAX_CONVERSATION_TEXT],
            "at": entry.at,
        }
        return {"Put": {"TableName": self.table_name, "Item": to_attribute_values(item)}}

    def conversation(self, address: str, limit: int) -> Conversation:
        """The contact's roll-up and its last `limit` messages: one Query, newest first."""
        response, _ = self.call(
            "query",
            KeyConditionExpression="pk = :pk AND sk <= :profile",
            ExpressionAttributeValues=to_attribute_values(
                {":pk": self.contact_key(address)["pk"], ":profile": "PROFILE"}
            ),
            ScanIndexForward=False,
            Limit=limit + 1,
        )
        items = [from_item(item) for item in (response or {}).get("Items", [])]
        profile = items.pop(0) if items and items[0]["sk"] == "PROFILE" else {}
        lines = [
            ConversationLine(bool(item.get("inbound")), str(item.get("text", "")), str(item.get("at", "")))
            for item in items
            if item["sk"].startswith("MSG#")
        ]
        return Conversation(
            profile.get("last_message_at"), profile.get("last_inbound_at"), tuple(reversed(lines[:limit]))
        )

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
