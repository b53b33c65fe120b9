"""A 1-5 reply's way to the reminder it rates: the recipient's `last_reminder` and the rating write.

The sender keeps `last_reminder` {pk, sent_at} on the recipient record (pk `RCP#<address id>`) when a
reminder is sent, so the worker finds what a reply rates with one GetItem by key: reminders have no
index by recipient, and a scan per inbound message would not do.
"""

from __future__ import annotations

from typing import Any

from switchboard.dal.contacts import AddressKeyedTable
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.recipients import recipient_key


class ReminderRatings(AddressKeyedTable):
    def last_reminder(self, phone: str) -> dict[str, Any] | None:
        """{pk, sent_at (ms)} of the number's last sent reminder, or None."""
        response, _ = self.call(
            "get_item",
            Key=to_attribute_values(recipient_key(self.address_keys.of(phone))),
            ProjectionExpression="last_reminder",
        )
        item = from_item((response or {}).get("Item") or {})
        last = item.get("last_reminder")
        return last if isinstance(last, dict) and last.get("pk") else None

    def record_rating(self, reminder_pk: str, rating: int, *, message_pk: str, at_ms: int) -> bool:
        """The first rating wins: a second reply, or this job retried, leaves it as it is."""
        response, _ = self.update(
            {"pk": reminder_pk, "sk": "REMINDER"},
            "SET rating = :rating, rated_at = :at, rating_message = :message",
            {":rating": rating, ":at": at_ms, ":message": message_pk},
            condition="attribute_exists(pk) AND attribute_not_exists(rating)",
        )
        return response is not None
