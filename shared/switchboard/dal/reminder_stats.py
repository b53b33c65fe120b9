"""Stored reminder numbers (services/reminders/stats.py), written by the daily digest's rollup.

One item per recipient and day, pk `RCP#<recipient id>` sk `STATS#<day>`, beside the recipient's record
and its daily counters: a recipient's days are one Query. One item per day, pk `STATS#reminders` sk
`DAY#<day>`: a range of days is one Query. Both are written with BatchWriteItem puts, so a second rollup
of a day replaces its items and never adds to them. They expire after 400 days (the table's TTL), like
the AI usage records whose cost they summarize: a year of day-by-day comparison, and no more. No address
is stored or keyed: recipients are their AddressKeys ids (docs/adr/0011).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from decimal import Decimal
from typing import Any

from switchboard.dal.contacts import suppression_key_of
from switchboard.dal.failures import translated
from switchboard.dal.items import to_attribute_values
from switchboard.dal.reminders import REMINDER_SK
from switchboard.dal.table import Table
from switchboard.errors import StoreUnavailable
from switchboard.models.reminders import DayStats

DAY_PK = "STATS#reminders"
RETENTION_SECONDS = 400 * 86_400
BATCH_WRITE_LIMIT = 25  # BatchWriteItem's maximum puts per request
_ATTEMPTS = 5


def recipient_stats_key(recipient_id: str, day: str) -> dict[str, str]:
    return {"pk": f"RCP#{recipient_id}", "sk": f"STATS#{day}"}


def day_stats_key(day: str) -> dict[str, str]:
    return {"pk": DAY_PK, "sk": f"DAY#{day}"}


def _storable(value: Any) -> Any:
    """Items take no floats: rates and costs as Decimals (read back as floats by from_item)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _storable(inner) for key, inner in value.items()}
    return value


def stats_items(stats: DayStats, now: float) -> list[dict[str, Any]]:
    common = {"kind": "reminder_stats", "day": stats.day, "rolled_up_at": int(now * 1000)}
    expires = {"expires_at": int(now) + RETENTION_SECONDS}
    items = [{**day_stats_key(stats.day), **common, "recipients": len(stats.recipients), **stats.total}]
    items += [
        {**recipient_stats_key(recipient, stats.day), **common, **row}
        for recipient, row in stats.recipients.items()
    ]
    return [_storable({**item, **expires}) for item in items]


class ReminderStatsRecords(Table):
    def put(self, stats: DayStats, now: float) -> int:
        """Replace the day's items (the day's and each recipient's); how many were written."""
        items = stats_items(stats, now)
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            pending = [{"PutRequest": {"Item": to_attribute_values(i)}} for i in items[start : start + 25]]
            for _ in range(_ATTEMPTS):
                with translated(StoreUnavailable, "DynamoDB batch_write_item"):
                    response = self.dynamodb.batch_write_item(RequestItems={self.table_name: pending})
                pending = response.get("UnprocessedItems", {}).get(self.table_name, [])
                if not pending:
                    break
            else:
                raise StoreUnavailable("DynamoDB batch_write_item: items left unprocessed")
        return len(items)

    def days(self, first: str, last: str) -> list[dict[str, Any]]:
        """The stored day rows from `first` to `last` (YYYY-MM-DD, inclusive): one Query."""
        return list(self._query(DAY_PK, f"DAY#{first}", f"DAY#{last}"))

    def recipient_days(self, recipient_id: str, first: str, last: str) -> list[dict[str, Any]]:
        """One recipient's stored rows from `first` to `last`: one Query on its partition."""
        return list(self._query(f"RCP#{recipient_id}", f"STATS#{first}", f"STATS#{last}"))

    def _query(self, pk: str, low: str, high: str) -> Iterator[dict[str, Any]]:
        return self.items(
            "query",
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues=to_attribute_values({":pk": pk, ":low": low, ":high": high}),
        )

    # --- the lookups stats.compute needs (stats.Lookups) ---------------------------------------------
    def suppressed_since(self, recipient_ids: Collection[str]) -> dict[str, str]:
        """Recipient id -> when its number was suppressed (ISO), for those suppressed now."""
        keys = {rid: suppression_key_of("sms", rid) for rid in recipient_ids}
        found = self.read_many(list(keys.values()))
        since: dict[str, str] = {}
        for rid, key in keys.items():
            record = found.get((key["pk"], key["sk"]), {})
            if record.get("suppressed") and record.get("updated_at"):
                since[rid] = str(record["updated_at"])
        return since

    def recipients_of(self, reminder_pks: Collection[str]) -> dict[str, str]:
        """Reminder pk -> its recipient id, for the reminders that have one."""
        found = self.read_many([{"pk": pk, "sk": REMINDER_SK} for pk in reminder_pks])
        return {pk: str(item["recipient"]) for (pk, _), item in found.items() if item.get("recipient")}
