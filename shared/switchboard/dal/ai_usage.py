"""AI usage records in the events table, under their own key space: one item per model call.

pk `AIUSAGE#<UTC day>`, sk `<ms>#<job pk>#<feature>#<n>`: a day is one Query (`switchboard ai usage --days N`
reads N partitions, never a scan), and a retried job's calls land beside the earlier attempt's. No personal
data: the job is named by its record key (provider + provider message id). The worker writes them inside
the job's completion transaction (`usage_puts`), so they cost no extra request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from switchboard.dal.items import to_attribute_values
from switchboard.dal.table import Table
from switchboard.models.ai_usage import AiCall

PREFIX = "AIUSAGE#"
RETENTION_SECONDS = 400 * 86_400  # a year of monthly reports, then the table's TTL removes them


def day_of(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%d")


def usage_item(call: AiCall, *, job_pk: str, index: int, now: float) -> dict[str, Any]:
    at_ms = int(now * 1000)
    return {
        "pk": f"{PREFIX}{day_of(now)}",
        "sk": f"{at_ms:013d}#{job_pk}#{call.feature}#{index}",
        "feature": call.feature,
        "provider": call.provider,
        "model": call.model,
        "input_tokens": call.input_tokens,
        "output_tokens": call.output_tokens,
        "latency_ms": call.latency_ms,
        # Items take no floats; a Decimal keeps the sub-cent cost exact enough (10 decimal places).
        "cost_usd": Decimal(f"{call.cost_usd:.10f}"),
        "priced": call.priced,
        "outcome": call.outcome,
        "error": call.error,
        "job_pk": job_pk,
        "at": at_ms,
        "expires_at": int(now) + RETENTION_SECONDS,
    }


def usage_puts(table_name: str, calls: list[AiCall], *, job_pk: str, now: float) -> list[dict[str, Any]]:
    """Transaction actions that record `calls` (the worker appends them to the job's commit)."""
    return [
        {
            "Put": {
                "TableName": table_name,
                "Item": to_attribute_values(usage_item(call, job_pk=job_pk, index=i, now=now)),
            }
        }
        for i, call in enumerate(calls)
    ]


class AiUsageRecords(Table):
    def calls_on(self, day: str) -> Iterator[dict[str, Any]]:
        """Every call recorded on one UTC day (YYYY-MM-DD)."""
        return self.items(
            "query",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{PREFIX}{day}"}},
        )
