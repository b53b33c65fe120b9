"""Reminder records and the daily-limit counters in the events table.

A reminder is one item per calendar event (pk `EVT#<calendar>#<event id>`, sk `REMINDER`), next to the
event's stored versions. It is replaced only by a newer version, and only if its state is still the
one the plan was made from (a send in between makes the worker retry). While scheduled it carries
`due_shard` (`DUE#0..7`) and `due_at` (ms): the sparse `RemindersDue` index the dispatcher reads.
A recipient's day (pk `RCP#<digest>`, sk `DAY#<local date>`) holds the ids of that day's reminders;
a slot is taken by a conditional add, so the daily limit holds under concurrent workers.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.table import Table
from switchboard.models.reminders import AFTER_SEND, ReminderPlan, ReminderState

REMINDER_SK = "REMINDER"
DUE_INDEX = "RemindersDue"  # template.yaml: HASH due_shard, RANGE due_at
AUDIT_PK = "AUDIT#reminders"  # operators' pauses and resumes, newest last
DUE_SHARDS = 8  # a minute's reminders spread over 8 partitions; the dispatcher queries each
# What a send left on the record (the sender's and the status callbacks' fields, and what was sent): a
# rename after the send replaces the record with the new version, and must keep them.
SEND_FACTS = (
    "send_key",
    "text",
    "sent_at",
    "provider",
    "provider_message_id",
    "delivered_at",
    "failed_at",
    "error",
)


class ReminderConflict(Exception):
    """The reminder changed state (a send) between read and write: retry the job to re-plan."""


def reminder_key(calendar: str, event_id: str) -> dict[str, str]:
    return {"pk": f"EVT#{calendar}#{event_id}", "sk": REMINDER_SK}


def due_shard(pk: str) -> str:
    return f"DUE#{zlib.crc32(pk.encode()) % DUE_SHARDS}"


def due_shards() -> list[str]:
    return [f"DUE#{shard}" for shard in range(DUE_SHARDS)]


def day_key(recipient: str, local_day: str) -> dict[str, str]:
    return {"pk": f"RCP#{recipient}", "sk": f"DAY#{local_day}"}


def kept_send(seen: dict[str, Any]) -> dict[str, Any]:
    """The send facts of a sent (or delivered, failed) record, and `sent_version`: the version that was
    sent, which its status callbacks name (dal/reminder_sends.py matches either)."""
    kept = {name: seen[name] for name in SEND_FACTS if name in seen}
    return {**kept, "sent_version": seen.get("sent_version", seen["version"])}


def release_day_slot(table: Table, recipient: str, local_day: str, event_id: str) -> None:
    """Give the event's slot on the recipient's local day back (a no-op when it holds none)."""
    table.call(
        "update_item",
        Key=to_attribute_values(day_key(recipient, local_day)),
        UpdateExpression="DELETE ids :id",
        ExpressionAttributeValues=to_attribute_values({":id": {event_id}}),
    )


def day_expiry(local_day: str) -> int:
    """When a daily counter may go (Unix seconds, the table's TTL): two days after its day, any zone."""
    end = datetime.combine(date.fromisoformat(local_day) + timedelta(days=2), time(0), tzinfo=UTC)
    return int(end.timestamp())


def reminder_item(plan: ReminderPlan, *, now: float, previous_day: str | None) -> dict[str, Any]:
    key = reminder_key(plan.calendar, plan.event_id)
    item: dict[str, Any] = {
        **key,
        "kind": "reminder",
        "calendar": plan.calendar,
        "event_id": plan.event_id,
        "version": plan.version,
        "state": plan.state.value,
        "send_key": plan.send_key,
        "title": plan.title,
        "text": plan.text,
        "changes": list(plan.changes),
        "updated_at": int(now * 1000),
    }
    optional = {
        "reason": plan.reason,
        "phone": plan.phone,
        "recipient": plan.recipient,
        "location": plan.location,
        "start": plan.start,
        "all_day": plan.all_day,
        "local_day": plan.local_day,
        "previous_day": previous_day,
        "zones": list(plan.zones) or None,
        "variant": plan.variant,
        "moved_by_quiet_hours": plan.moved_by_quiet_hours or None,  # the day's quiet-hours rate counts it
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    if plan.state is ReminderState.SCHEDULED and plan.due_at is not None:
        item["due_at"] = int(plan.due_at.timestamp() * 1000)
        item["due_shard"] = due_shard(key["pk"])
    return item


class ReminderRecords(Table):
    def get(self, calendar: str, event_id: str) -> dict[str, Any] | None:
        response, _ = self.call(
            "get_item", Key=to_attribute_values(reminder_key(calendar, event_id)), ConsistentRead=True
        )
        item = (response or {}).get("Item")
        return from_item(item) if item else None

    def write(
        self, plan: ReminderPlan, *, seen: dict[str, Any] | None, now: float
    ) -> tuple[bool, dict[str, Any]]:
        """Replace the reminder with this version if it is newer and unchanged since `seen` was read.
        (False, stored) when a newer or equal version is stored; ReminderConflict when its state moved."""
        previous_day = seen.get("local_day") if seen and seen.get("state") == "scheduled" else None
        item = reminder_item(plan, now=now, previous_day=previous_day)
        if seen and plan.state in AFTER_SEND and seen.get("state") == plan.state.value:
            item.update(kept_send(seen))  # a rename after the send: new words, the same send
        request: dict[str, Any] = {
            "Item": to_attribute_values(item),
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if seen is not None:
            request["ConditionExpression"] = "version < :version AND #state = :seen"
            request["ExpressionAttributeNames"] = {"#state": "state"}
            request["ExpressionAttributeValues"] = to_attribute_values(
                {":version": plan.version, ":seen": seen.get("state")}
            )
        response, old = self.call("put_item", **request)
        if response is not None:
            return True, {}
        if str(old.get("version", "")) >= plan.version:
            return False, old
        raise ReminderConflict(f"reminder {plan.calendar}/{plan.event_id} changed while planning")

    def cancel(
        self, calendar: str, event_id: str, reason: str, *, now: float, version: str | None = None
    ) -> dict[str, Any] | None:
        """Cancel a still-scheduled reminder (of `version`, when given: a newer plan is left alone); its
        old item, or None."""
        values: dict[str, Any] = {
            ":cancelled": "cancelled",
            ":scheduled": "scheduled",
            ":reason": reason,
            ":now": int(now * 1000),
        }
        condition = "#state = :scheduled"
        if version is not None:
            condition, values[":version"] = f"{condition} AND version = :version", version
        response, _ = self.call(
            "update_item",
            Key=to_attribute_values(reminder_key(calendar, event_id)),
            UpdateExpression="SET #state = :cancelled, reason = :reason, updated_at = :now REMOVE due_shard",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_attribute_values(values),
            ReturnValues="ALL_OLD",
        )
        return from_item(response["Attributes"]) if response else None

    def move(
        self, item: dict[str, Any], due_at_ms: int, local_day: str, *, moved_by_quiet_hours: bool, now: float
    ) -> bool:
        """Move a scheduled reminder of this version to a new due time (the daily planner, so its change is
        "planner_moved"); False when it was sent, cancelled or re-planned meanwhile."""
        response, _ = self.call(
            "update_item",
            Key=to_attribute_values(reminder_key(item["calendar"], item["event_id"])),
            UpdateExpression="SET due_at = :due, local_day = :day, moved_by_quiet_hours = :quiet, "
            "updated_at = :now, changes = list_append(if_not_exists(changes, :none), :change)",
            ConditionExpression="#state = :scheduled AND version = :version",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_attribute_values(
                {
                    ":due": due_at_ms,
                    ":day": local_day,
                    ":quiet": moved_by_quiet_hours,
                    ":now": int(now * 1000),
                    ":none": [],
                    ":change": ["planner_moved"],
                    ":scheduled": "scheduled",
                    ":version": item["version"],
                }
            ),
        )
        return response is not None

    def checkpoint(self, name: str, *, now: float | None = None) -> int | None:
        """A scheduled job's last run (ms); with `now`, records this run and returns the previous one."""
        key = {"pk": f"RUN#{name}", "sk": "LAST"}
        if now is None:
            response, _ = self.call("get_item", Key=to_attribute_values(key), ConsistentRead=True)
            item = from_item((response or {}).get("Item") or {})
            return int(item["at"]) if "at" in item else None
        response, _ = self.call(
            "put_item", Item=to_attribute_values({**key, "at": int(now * 1000)}), ReturnValues="ALL_OLD"
        )
        old = from_item((response or {}).get("Attributes") or {})
        return int(old["at"]) if "at" in old else None

    def claim_slot(self, recipient: str, local_day: str, event_id: str, limit: int) -> bool:
        """Take one of the day's `limit` slots for the event (idempotent: holding one already counts)."""
        response, _ = self.call(
            "update_item",
            Key=to_attribute_values(day_key(recipient, local_day)),
            UpdateExpression="ADD ids :id SET expires_at = :expires",
            ConditionExpression="attribute_not_exists(ids) OR size(ids) < :limit OR contains(ids, :event)",
            ExpressionAttributeValues=to_attribute_values(
                {":id": {event_id}, ":event": event_id, ":limit": limit, ":expires": day_expiry(local_day)}
            ),
        )
        return response is not None

    def release_slot(self, recipient: str, local_day: str, event_id: str) -> None:
        release_day_slot(self, recipient, local_day, event_id)

    def scheduled(self, *, due_from: int = 0, due_until: int | None = None) -> Iterator[dict[str, Any]]:
        """Scheduled reminders due in [due_from, due_until] (ms), from the RemindersDue index: each
        {pk, sk, due_shard, due_at, version, send_key} plus its calendar and event id. A window that ends
        before it starts holds nothing (DynamoDB refuses BETWEEN with its bounds reversed)."""
        if due_until is not None and due_until < due_from:
            return
        for shard in due_shards():
            values: dict[str, Any] = {":shard": shard, ":from": due_from}
            window = "due_at >= :from"
            if due_until is not None:
                window, values[":until"] = "due_at BETWEEN :from AND :until", due_until
            for item in self.items(
                "query",
                IndexName=DUE_INDEX,
                KeyConditionExpression=f"due_shard = :shard AND {window}",
                ExpressionAttributeValues=to_attribute_values(values),
            ):
                yield with_event_id(item)

    def scan_by_state(self, state: str) -> Iterator[dict[str, Any]]:
        """Every reminder in `state`: a filtered scan of the whole table, for an operator, never a hot path
        (only scheduled reminders are indexed)."""
        return self.items(
            "scan",
            FilterExpression="kind = :kind AND #state = :state",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_attribute_values({":kind": "reminder", ":state": state}),
        )

    def scan_variants(self) -> Iterator[dict[str, Any]]:
        """Every reminder planned under an A/B variant: a filtered scan, `switchboard metrics variants`."""
        return self.items(
            "scan",
            FilterExpression="kind = :kind AND attribute_exists(variant)",
            ExpressionAttributeValues=to_attribute_values({":kind": "reminder"}),
        )

    def record_audit(self, action: str, details: dict[str, Any], *, now: float) -> dict[str, Any]:
        """An operator's action on reminders (pause, resume), kept in the table for the record."""
        stamp = datetime.fromtimestamp(now, tz=UTC).isoformat(timespec="milliseconds")
        item = {"pk": AUDIT_PK, "sk": f"{stamp}#{action}", "kind": "audit", "action": action, **details}
        self.call("put_item", Item=to_attribute_values(item))
        return item


def with_event_id(item: dict[str, Any]) -> dict[str, Any]:
    """A reminder's calendar and event id, read back from its pk `EVT#<calendar>#<event id>`."""
    _, calendar, event_id = str(item["pk"]).split("#", 2)
    return {**item, "calendar": calendar, "event_id": event_id}
