"""Job statistics arithmetic."""

from __future__ import annotations

from switchboard.services.job_stats import job_stats


def test_states_attempts_and_recoveries_are_counted_by_provider_and_kind():
    records = [
        {"provider": "twilio", "kind": "message", "job_state": "PROCESSED", "attempts": 1},
        {"provider": "twilio", "kind": "message", "job_state": "PROCESSED", "attempts": 4, "recovered": True},
        {"provider": "twilio", "kind": "status", "job_state": "FAILED", "attempts": 6, "exhausted": True},
        {"provider": "openphone", "kind": "message", "job_state": "FAILED", "attempts": 2},
        {"provider": "openphone", "kind": "message", "job_state": "RECEIVED", "attempts": 0, "unfinished": 3},
        {"provider": "twilio", "kind": "message", "job_state": "RECEIVED", "attempts": 0},  # no job: a canary
        {"provider": "ghl", "kind": "message", "job_state": "PROCESSING", "attempts": 1},
    ]

    stats = job_stats(records)

    assert {
        k: stats[k] for k in ("total", "pending", "processing", "processed", "exhausted", "recovered")
    } == {"total": 6, "pending": 2, "processing": 1, "processed": 2, "exhausted": 1, "recovered": 1}
    assert stats["average_attempts"] == 2.8  # (1 + 4 + 6 + 2 + 1) / 5 records that were attempted
    assert stats["by_provider"]["twilio"]["exhausted"] == 1
    assert stats["by_kind"]["message"]["total"] == 5


def test_no_jobs_gives_zeros_not_errors():
    stats = job_stats([])

    assert (stats["total"], stats["average_attempts"], stats["by_provider"]) == (0, 0.0, {})
