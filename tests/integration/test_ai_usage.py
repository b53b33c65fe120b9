"""AI usage records: written in the job's transaction shape, read back per day by `switchboard ai usage`."""

from __future__ import annotations

import json
import time

import pytest

from switchboard.dal.ai_usage import usage_puts
from switchboard.models.ai_usage import AiCall
from switchboard_ops.cli import ai
from switchboard_ops.cli.main import main
from switchboard_ops.cli.target import Target

DAY = 86_400


def call(feature: str, outcome: str = "ok", cost: float = 0.000002) -> AiCall:
    return AiCall(
        feature=feature,
        provider="bedrock",
        model="amazon.nova-micro-v1:0",
        input_tokens=40,
        output_tokens=10,
        latency_ms=120,
        cost_usd=cost,
        priced=True,
        outcome=outcome,
    )


def test_ai_usage_sums_the_window_by_feature_and_leaves_older_days_out(stack, dynamodb, monkeypatch, capsys):
    # Given calls recorded today, yesterday and three days ago
    table = stack.tables["EventsTable"]
    now = time.time()
    recorded = [
        (now, [call("sentiment.classify"), call("sentiment.classify", "timeout", 0.0)]),
        (now - DAY, [call("draft.generate", cost=0.00001)]),
        (now - 3 * DAY, [call("draft.strategy")]),
    ]
    for at, calls in recorded:
        dynamodb.transact_write_items(
            TransactItems=usage_puts(table, calls, job_pk="EVT#instantly#e1", now=at)
        )
    monkeypatch.setattr(ai, "resolve", lambda args: Target(name="test", region="us-east-1", table_name=table))

    # When `switchboard ai usage --days 2 --json` runs
    assert main(["ai", "usage", "--days", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    # Then the two days' three calls are summed, by feature too; the older one is outside the window
    assert (report["calls"], report["failures"], report["input_tokens"]) == (3, 1, 120)
    assert report["cost_usd"] == 0.000012
    assert set(report["by_feature"]) == {"sentiment.classify", "draft.generate"}
    assert report["by_feature"]["sentiment.classify"]["failures"] == 1
    assert report["by_outcome"] == {"ok": 2, "timeout": 1}


def test_ai_usage_prints_a_table_per_feature(stack, monkeypatch, capsys):
    table = stack.tables["EventsTable"]
    monkeypatch.setattr(ai, "resolve", lambda args: Target(name="test", region="us-east-1", table_name=table))

    assert main(["ai", "usage", "--days", "1"]) == 0
    assert "CALLS" in capsys.readouterr().out


def test_a_window_outside_the_retention_is_refused():
    with pytest.raises(SystemExit) as exited:
        main(["ai", "usage", "--days", "0"])
    assert exited.value.code == 2


@pytest.mark.parametrize("days", ["1.5", "\u00b2"])
def test_a_window_that_is_not_a_whole_number_says_what_days_takes(days, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["ai", "usage", "--days", days])
    # argparse named the converter instead: "invalid _days value: '1.5'"
    assert exited.value.code == 2 and "--days must be a whole number from 1 to 400" in capsys.readouterr().err
