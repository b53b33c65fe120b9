"""Consent and the suppression list: one record per (channel, address), keyed on the address's keyed hash.

The sender checks it before every send; processing records opt-out / opt-in / help keywords in order
(a late, older keyword never overrides a newer one).
"""

from __future__ import annotations

from typing import Any

from switchboard.dal.contacts import AddressKeyedTable
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.models.plan import Consent, ConsentChange


class Consents(AddressKeyedTable):
    def is_suppressed(self, channel: str, address: str) -> bool:
        response, _ = self.call(
            "get_item",
            Key=to_attribute_values(self.suppression_key(channel, address)),
            ConsistentRead=True,
        )
        return bool(from_item((response or {}).get("Item") or {}).get("suppressed"))

    def suppressed_at(self, channel: str, address: str) -> str | None:
        """When the address was suppressed (the opt-out's ISO time), or None while it is not."""
        response, _ = self.call("get_item", Key=to_attribute_values(self.suppression_key(channel, address)))
        item = from_item((response or {}).get("Item") or {})
        return str(item["updated_at"]) if item.get("suppressed") and item.get("updated_at") else None

    def record_consent(self, change: ConsentChange) -> bool:
        """Apply an opt-out/opt-in/help unless a newer one is already recorded; True when applied."""
        values: dict[str, Any] = {
            ":at": change.at,
            ":pk": change.message_pk,
            ":keyword": change.consent.value,
        }
        expression = "SET updated_at = :at, last_message_pk = :pk, last_keyword = :keyword"
        if change.consent != Consent.HELP:
            expression += ", suppressed = :suppressed"
            values[":suppressed"] = change.consent == Consent.OPT_OUT
        else:
            expression += ", last_help_at = :at"
        response, _ = self.update(
            self.suppression_key(change.channel, change.address),
            expression,
            values,
            condition="attribute_not_exists(updated_at) OR updated_at <= :at",
        )
        return response is not None
