"""Health-check statistics and the canary token."""

from __future__ import annotations

from typing import Any

from switchboard.canary import canary_body, canary_token, new_token
from switchboard.services.health import health_stats


def test_stats_over_judged_checks():
    checks: list[dict[str, Any]] = [
        {"token": "1", "status": "passed", "latency_ms": 1000},
        {"token": "2", "status": "passed", "latency_ms": 3000},
        {"token": "3", "status": "failed"},
        {"token": "4", "status": "passed", "latency_ms": 2000},
        {"token": "5", "status": "sent"},  # still in flight: not counted
    ]

    stats = health_stats(checks)

    assert (stats["total"], stats["passed"], stats["failed"], stats["success_rate"]) == (4, 3, 1, 75.0)
    assert stats["last_failure"] == "3"
    assert stats["latency_p50_ms"] == 2000
    assert 2000 < stats["latency_p95_ms"] <= 3000


def test_no_checks_has_no_rate():
    assert health_stats([])["success_rate"] is None


def test_tokens_round_trip_through_a_message_body_and_sort_by_time():
    early, late = new_token(1_700_000_000), new_token(1_800_000_000)

    assert canary_token(f"Re: {canary_body(early)}") == early
    assert early < late
    assert canary_token("SWB-CANARY-nope") is None
