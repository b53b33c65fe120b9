"""What one UTC day left in the events table, read for the daily digest: one paginated Scan.

Event records received that day (provider, kind, source, job fields), DELIVERY records whose last
status is from that day, and the day's REMINDER records: due that day, or, cancelled when planned
without a send time, planned that day (services/reminders/stats.py defines the day). A scan on
purpose, like the weekly integrity check: the table has no index by day, and a daily read of it costs
less than a counter on the ingest hot path (2 AWS calls per webhook) or per reminder sent would
(docs/adr/0016)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.dal.items import to_attribute_values
from switchboard.dal.reminders import REMINDER_SK
from switchboard.dal.table import Table

FIELDS = (
    "pk",
    "sk",
    "provider",
    "kind",
    "#source",
    "received_at",
    "job_state",
    "unfinished",  # a RECEIVED record without it has no job (services/job_stats.py)
    "attempts",
    "exhausted",
    "recovered",
    "delivery_status",
    # reminder records (services/reminders/stats.py)
    "#state",
    "reason",
    "recipient",
    "due_at",
    "sent_at",
    "delivered_at",
    "moved_by_quiet_hours",
    "deferred_reason",
    "variant",
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
            " OR (sk = :delivery AND begins_with(updated_at, :day))"
            " OR (sk = :reminder AND ((due_at >= :start AND due_at < :end)"
            " OR (attribute_not_exists(due_at) AND updated_at >= :start AND updated_at < :end))))",
            "ProjectionExpression": ", ".join(FIELDS),
            "ExpressionAttributeNames": {"#source": "source", "#state": "state"},
            "ExpressionAttributeValues": to_attribute_values(
                {
                    ":evt": "EVT#",
                    ":start": start,
                    ":end": end,
                    ":delivery": "DELIVERY",
                    ":day": day,
                    ":reminder": REMINDER_SK,
                }
            ),
        }
        yield from self.items("scan", **request)
