"""What one UTC day left in the events table, read for the daily digest: one paginated Scan.

Event records received that day (provider, kind, source, job fields) and DELIVERY records whose last
status is from that day. A scan on purpose, like the weekly integrity check: the table has no index by
day, and a daily read of it costs less than a counter on the ingest hot path would (2 AWS calls per
webhook, docs/adr/0016)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.table import Table

FIELDS = (
    "pk",
    "sk",
    "provider",
    "kind",
    "#source",
    "received_at",
    "job_state",
    "attempts",
    "exhausted",
    "recovered",
    "delivery_status",
)


def day_bounds_ms(day: str) -> tuple[int, int]:
    """[start, end) of a UTC day (YYYY-MM-DD) in epoch milliseconds."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return int(start.timestamp() * 1000), int((start + timedelta(days=1)).timestamp() * 1000)


class DailyRecords(Table):
    def records_of(self, day: str) -> Iterator[dict[str, Any]]:
        start, end = day_bounds_ms(day)
        request: dict[str, Any] = {
            "FilterExpression": "begins_with(pk, :evt) AND ((received_at >= :start AND received_at < :end)"
            " OR (sk = :delivery AND begins_with(updated_at, :day)))",
            "ProjectionExpression": ", ".join(FIELDS),
            "ExpressionAttributeNames": {"#source": "source"},
            "ExpressionAttributeValues": to_attribute_values(
                {":evt": "EVT#", ":start": start, ":end": end, ":delivery": "DELIVERY", ":day": day}
            ),
        }
        while True:
            response, _ = self.call("scan", **request)
            page = response or {}
            yield from (from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
