"""A reminder's way out: the dispatcher's reads and claims, and the sender's and worker's state moves.

The dispatcher reads a due shard of the sparse `RemindersDue` index a page at a time, re-reads the
page's reminders and the facts it re-validates against (suppression, recipient, the day's slots) with
BatchGetItem, and claims what it enqueued with one TransactWriteItems per 100 reminders: scheduled ->
queued on (state, version), leaving the index in the same write. After the send, the sender moves the
reminder to sent (and links the provider's message id on its DELIVERY record, so the worker's status
merge finds the reminder without a read); status callbacks move it to delivered or failed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from switchboard.dal.contacts import AddressKeyedTable
from switchboard.dal.deliveries import delivery_key
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.recipients import RECIPIENT_SK
from switchboard.dal.reminders import DUE_INDEX, day_key, release_day_slot
from switchboard.models.reminders import ReminderState

TRANSACTION_LIMIT = 100  # TransactWriteItems' maximum actions per request


def recipient_key_of(digest: str) -> dict[str, str]:
    return {"pk": f"RCP#{digest}", "sk": RECIPIENT_SK}


def parse_send_key(send_key: str) -> tuple[str, str, str] | None:
    """`reminder:<calendar>:<event id>:<version>` -> (calendar, event id, version); None if not one."""
    head, _, rest = send_key.partition(":")
    calendar, _, rest = rest.partition(":")
    event_id, _, version = rest.rpartition(":")
    if head != "reminder" or not (calendar and event_id and version):
        return None
    return calendar, event_id, version


def _reminder_key(calendar: str, event_id: str) -> dict[str, str]:
    return {"pk": f"EVT#{calendar}#{event_id}", "sk": "REMINDER"}


class ReminderSends(AddressKeyedTable):
    # --- the dispatcher ---------------------------------------------------------------------------
    def due_pages(self, shard: str, now_ms: int) -> Iterator[list[dict[str, Any]]]:
        """The shard's index entries due at or before now, a Query page at a time (oldest first)."""
        for response in self.pages(
            "query",
            IndexName=DUE_INDEX,
            KeyConditionExpression="due_shard = :shard AND due_at <= :now",
            ExpressionAttributeValues=to_attribute_values({":shard": shard, ":now": now_ms}),
        ):
            page = [from_item(item) for item in response.get("Items", [])]
            if page:
                yield page

    def facts_keys(self, reminder: dict[str, Any]) -> list[dict[str, str]]:
        """What a reminder is re-validated against: its number's suppression, its recipient, its day."""
        keys = [self.suppression_key("sms", str(reminder["phone"]))]
        if reminder.get("recipient"):
            keys.append(recipient_key_of(str(reminder["recipient"])))
            if reminder.get("local_day"):
                keys.append(day_key(str(reminder["recipient"]), str(reminder["local_day"])))
        return keys

    def claim(self, reminders: Sequence[dict[str, Any]], now: float) -> list[dict[str, Any]]:
        """scheduled -> queued for each reminder still at its version; the claimed ones. One transaction
        per 100; a transaction a changed reminder cancels is redone one conditional update each."""
        claimed: list[dict[str, Any]] = []
        for start in range(0, len(reminders), TRANSACTION_LIMIT):
            chunk = list(reminders[start : start + TRANSACTION_LIMIT])
            if len(chunk) > 1:
                actions = [{"Update": {"TableName": self.table_name, **self._claim(r, now)}} for r in chunk]
                response, _ = self.call("transact_write_items", TransactItems=actions)
                if response is not None:
                    claimed.extend(chunk)
                    continue
            for reminder in chunk:
                one, _ = self.call("update_item", **self._claim(reminder, now))
                if one is not None:
                    claimed.append(reminder)
        return claimed

    def _claim(self, reminder: dict[str, Any], now: float) -> dict[str, Any]:
        return self.update_request(
            {"pk": reminder["pk"], "sk": reminder["sk"]},
            "SET #state = :queued, queued_at = :now, updated_at = :now REMOVE due_shard",
            {
                ":queued": ReminderState.QUEUED.value,
                ":scheduled": ReminderState.SCHEDULED.value,
                ":version": reminder["version"],
                ":now": int(now * 1000),
            },
            "#state = :scheduled AND version = :version",
            {"#state": "state"},
        )

    def cancel_at_dispatch(self, reminder: dict[str, Any], reason: str, now: float) -> bool:
        """A due reminder that failed re-validation: cancelled with the reason (if still this version)."""
        moved = self._while_scheduled(
            reminder,
            "SET #state = :cancelled, reason = :reason, updated_at = :now REMOVE due_shard",
            {":cancelled": ReminderState.CANCELLED.value, ":reason": reason},
            now,
        )
        if not moved:
            return False
        if reminder.get("recipient") and reminder.get("local_day"):
            # A cancelled reminder holds no place in the day's limit: another event may take it.
            release_day_slot(self, reminder["recipient"], reminder["local_day"], reminder["event_id"])
        return True

    def defer(self, reminder: dict[str, Any], due_at_ms: int, reason: str, now: float) -> bool:
        """Due inside quiet hours *now* (the recipient's rules changed): stays scheduled, later."""
        return self._while_scheduled(
            reminder,
            "SET due_at = :due, deferred_reason = :reason, updated_at = :now",
            {":due": due_at_ms, ":reason": reason},
            now,
        )

    def _while_scheduled(
        self, reminder: dict[str, Any], expression: str, values: dict[str, Any], now: float
    ) -> bool:
        """`expression` applied only while the reminder is still scheduled at this version."""
        response, _ = self.update(
            {"pk": reminder["pk"], "sk": reminder["sk"]},
            expression,
            {
                **values,
                ":scheduled": ReminderState.SCHEDULED.value,
                ":version": reminder["version"],
                ":now": int(now * 1000),
            },
            condition="#state = :scheduled AND version = :version",
            names={"#state": "state"},
        )
        return response is not None

    # --- the sender ----------------------------------------------------------------------------------
    def current(self, send_key: str) -> dict[str, Any] | None:
        """The reminder a send key names, only while that version may still be sent."""
        parsed = parse_send_key(send_key)
        if parsed is None:
            return None
        calendar, event_id, version = parsed
        response, _ = self.call(
            "get_item", Key=to_attribute_values(_reminder_key(calendar, event_id)), ConsistentRead=True
        )
        item = from_item((response or {}).get("Item") or {})
        sendable = {ReminderState.SCHEDULED.value, ReminderState.QUEUED.value}
        return item if str(item.get("version")) == version and item.get("state") in sendable else None

    def mark_sent(
        self, send_key: str, provider: str, provider_message_id: str, now: float
    ) -> dict[str, Any] | None:
        """queued (or scheduled: a claim lost to a crash) -> sent, and the DELIVERY link for callbacks.
        Returns the linked DELIVERY record when the reminder moved to sent (None otherwise): a status
        callback merged before the link shows there as `delivery_status`."""
        calendar, event_id, version = parse_send_key(send_key) or ("", "", "")
        key = _reminder_key(calendar, event_id)
        linked, _ = self.update(
            delivery_key(provider, provider_message_id),
            "SET reminder_pk = :pk, reminder_version = :version",
            {":pk": key["pk"], ":version": version},
            ReturnValues="ALL_NEW",
        )
        sent = self._moved(
            key,
            version,
            ReminderState.SENT,
            now,
            sent_at=int(now * 1000),
            provider=provider,
            provider_message_id=provider_message_id,
        )
        if sent is None:
            return None
        if sent.get("recipient"):
            self._remember_last(str(sent["recipient"]), key["pk"], int(now * 1000))
        return from_item(linked["Attributes"]) if linked else {}

    def _remember_last(self, recipient: str, reminder_pk: str, sent_at_ms: int) -> None:
        """The recipient's last sent reminder, on its record: a 1-5 reply finds what it rates with one
        GetItem (there is no index of reminders by recipient). One small extra write per sent reminder;
        only an existing recipient record is updated (a stray write would create a half item)."""
        self.update(
            recipient_key_of(recipient),
            "SET last_reminder = :last",
            {":last": {"pk": reminder_pk, "sent_at": sent_at_ms}},
            condition="attribute_exists(pk)",
        )

    def mark_failed(self, send_key: str, error: str, now: float) -> bool:
        calendar, event_id, version = parse_send_key(send_key) or ("", "", "")
        return self._move(
            _reminder_key(calendar, event_id),
            version,
            ReminderState.FAILED,
            now,
            error=error[:500],
            failed_at=int(now * 1000),
        )

    def mark_cancelled(self, send_key: str, reason: str, now: float) -> bool:
        """Not sent after all (the number was suppressed by the time of the send)."""
        calendar, event_id, version = parse_send_key(send_key) or ("", "", "")
        return self._move(
            _reminder_key(calendar, event_id), version, ReminderState.CANCELLED, now, reason=reason
        )

    # --- the worker (status callbacks) -----------------------------------------------------------
    def record_delivery(
        self, reminder_pk: str, version: str, state: ReminderState, now: float, **fields: Any
    ) -> bool:
        return self._move({"pk": reminder_pk, "sk": "REMINDER"}, version, state, now, **fields)

    def _move(
        self, key: dict[str, str], version: str, state: ReminderState, now: float, **fields: Any
    ) -> bool:
        return self._moved(key, version, state, now, **fields) is not None

    def _moved(
        self, key: dict[str, str], version: str, state: ReminderState, now: float, **fields: Any
    ) -> dict[str, Any] | None:
        """Forward only: never out of delivered/failed, never onto another version (a renamed record
        still answers to the version that was sent). The moved item, or None when it was not moved."""
        values = {
            ":state": state.value,
            ":version": version,
            ":now": int(now * 1000),
            ":delivered": ReminderState.DELIVERED.value,
            ":failed": ReminderState.FAILED.value,
            ":cancelled": ReminderState.CANCELLED.value,
            **{f":{name}": value for name, value in fields.items()},
        }
        sets = ", ".join(["#state = :state", "updated_at = :now", *(f"#{n} = :{n}" for n in fields)])
        response, _ = self.update(
            key,
            f"SET {sets} REMOVE due_shard",
            values,
            # sent_version: the version a rename after the send replaced (dal/reminders.py kept_send)
            condition="(version = :version OR sent_version = :version)"
            " AND NOT #state IN (:delivered, :failed, :cancelled)",
            names={"#state": "state", **{f"#{name}": name for name in fields}},
            ReturnValues="ALL_NEW",
        )
        return from_item(response.get("Attributes") or {}) if response is not None else None
