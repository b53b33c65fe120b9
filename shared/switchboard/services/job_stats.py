"""Job health: totals by state, provider and kind, from the records' own job fields."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from switchboard.models.states import JobState

STATES = ("pending", "processing", "processed", "exhausted")


def has_job(record: dict[str, Any]) -> bool:
    """False for a record stored without a job (a health-check canary): still RECEIVED, yet never in the
    unfinished-jobs index, which every stored job is in until it ends (dal/events_table.py)."""
    return not (record.get("job_state") == JobState.RECEIVED and "unfinished" not in record)


def job_bucket(record: dict[str, Any]) -> str:
    state = record.get("job_state")
    if state == JobState.PROCESSED:
        return "processed"
    if state == JobState.PROCESSING:
        return "processing"
    if state == JobState.FAILED and record.get("exhausted"):
        return "exhausted"
    return "pending"  # RECEIVED, or FAILED and waiting for its retry


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    buckets = Counter(job_bucket(record) for record in records)
    attempts = [int(record.get("attempts", 0)) for record in records if record.get("attempts")]
    return {
        "total": len(records),
        **{state: buckets.get(state, 0) for state in STATES},
        "recovered": sum(1 for record in records if record.get("recovered")),
        "average_attempts": round(sum(attempts) / len(attempts), 2) if attempts else 0.0,
        "max_attempts": max(attempts, default=0),
    }


def job_stats(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """{totals, by_provider: {p: totals}, by_kind: {k: totals}} of the records that carry a job."""
    everything = [record for record in records if has_job(record)]
    by_provider: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in everything:
        by_provider[str(record.get("provider", "unknown"))].append(record)
        by_kind[str(record.get("kind", "unknown"))].append(record)
    return {
        **_summary(everything),
        "by_provider": {name: _summary(group) for name, group in sorted(by_provider.items())},
        "by_kind": {name: _summary(group) for name, group in sorted(by_kind.items())},
    }
