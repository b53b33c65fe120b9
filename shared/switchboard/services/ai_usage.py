"""AI usage over a window of days: calls, failures, tokens, cost and latency, in total and by feature and
model, from the usage records the worker commits with each job (dal/ai_usage.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any


def days_back(days: int, now: float) -> list[str]:
    """The last `days` UTC days, today included, oldest first."""
    today = datetime.fromtimestamp(now, UTC).date()
    return [(today - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def _summary(calls: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = [int(call.get("latency_ms", 0)) for call in calls]
    return {
        "calls": len(calls),
        "failures": sum(1 for call in calls if call.get("outcome") != "ok"),
        "input_tokens": sum(int(call.get("input_tokens", 0)) for call in calls),
        "output_tokens": sum(int(call.get("output_tokens", 0)) for call in calls),
        "cost_usd": round(sum(float(call.get("cost_usd", 0)) for call in calls), 6),
        "unpriced_calls": sum(1 for call in calls if not call.get("priced", True)),
        "average_latency_ms": round(sum(latencies) / len(latencies)) if latencies else 0,
    }


def usage_report(
    calls_on: Callable[[str], Iterable[dict[str, Any]]], days: int, now: float
) -> dict[str, Any]:
    """{days, since, totals..., by_feature: {f: ...}, by_model: {m: ...}, by_outcome: {o: n}}."""
    window = days_back(days, now)
    everything: list[dict[str, Any]] = [call for day in window for call in calls_on(day)]
    by_feature: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_outcome: dict[str, int] = defaultdict(int)
    for call in everything:
        by_feature[str(call.get("feature"))].append(call)
        by_model[str(call.get("model"))].append(call)
        by_outcome[str(call.get("outcome"))] += 1
    return {
        "days": days,
        "since": window[0],
        **_summary(everything),
        "by_feature": {name: _summary(group) for name, group in sorted(by_feature.items())},
        "by_model": {name: _summary(group) for name, group in sorted(by_model.items())},
        "by_outcome": dict(sorted(by_outcome.items())),
    }
