"""bench/replies measures what its figures claim. Structure and counts only, never a timing (the machine
is shared and noisy): a tiny run with the sandbox's model answering at once.

- every seeded job is drained at every concurrency, on both sides;
- auto-send adds, per job, the suppression read and the outbound SendMessage (and, for a template
  draft, the conversation read the model's draft makes anyway), and enqueues one send request;
- the LLM side records three model calls per job (classify, strategy, generate) and their cost; the
  rules side records none and costs nothing.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from switchboard_ops.project import ROOT

if str(ROOT) not in sys.path:  # bench/ sits beside tests/, outside the installed packages
    sys.path.insert(0, str(ROOT))

from bench.replies import __main__ as cli  # noqa: E402
from bench.replies.run import measure  # noqa: E402

JOBS = 3


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return measure(llm_latency=0.0, concurrencies=(1, 2), jobs_per_level=JOBS, call_jobs=JOBS)


def test_every_seeded_reply_is_processed_at_every_concurrency_on_both_sides(measured):
    assert {
        (level, side): result["jobs"]
        for level, sides in measured["throughput"].items()
        for side, result in sides.items()
    } == {(level, side): JOBS for level in (1, 2) for side in ("llm", "rules")}


@pytest.mark.parametrize(
    ("side", "added"),
    [
        ("llm", {"dynamodb.GetItem": 1.0, "sqs.SendMessage": 1.0}),
        ("rules", {"dynamodb.GetItem": 1.0, "dynamodb.Query": 1.0, "sqs.SendMessage": 1.0}),
    ],
)
def test_auto_send_adds_the_suppression_read_and_one_send_per_job(measured, side, added):
    on, off = measured["calls"][side]["auto_send"], measured["calls"][side]["no_auto_send"]

    assert cli.added_calls(on, off) == added
    assert on["mean"] - off["mean"] == pytest.approx(sum(added.values()))
    assert (on["send_requests_enqueued"], off["send_requests_enqueued"]) == (JOBS, 0)


def test_a_job_costs_one_transaction_and_no_secret_read_once_warm(measured):
    # The model's three calls are recorded inside the job's commit: no extra write per model call
    for side in ("llm", "rules"):
        operations = measured["calls"][side]["auto_send"]["per_job_operations"]
        assert operations["dynamodb.TransactWriteItems"] == 1.0
        assert "secretsmanager.GetSecretValue" not in operations


def test_the_model_side_records_three_calls_per_job_and_the_rules_side_none(measured):
    assert measured["calls"]["llm"]["auto_send"]["model_calls"] == {
        "draft.generate": JOBS,
        "draft.strategy": JOBS,
        "sentiment.classify": JOBS,
    }
    assert measured["calls"]["rules"]["auto_send"]["model_calls"] == {}


def test_the_cost_figure_is_the_usage_records_cost_per_thousand_jobs(measured):
    [cost] = [f for f in cli.figures(measured, 0.0) if f.key == "cost.per_1000_replies"]
    usage = measured["calls"]["llm"]["auto_send"]["usage"]

    assert cost.ours == pytest.approx(float(sum(call["cost_usd"] for call in usage)) / JOBS * 1000, abs=1e-4)
    assert cost.ours > 0 and cost.baseline == 0
    assert all(call["priced"] for call in usage)
