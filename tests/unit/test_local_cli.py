"""The CLI's `dlq` and `jobs` output, from plain values (no stack, no network)."""

from __future__ import annotations

import json

import pytest

from switchboard.dal.dead_letters import DeadLetter
from switchboard_ops.cli import dlq, jobs
from switchboard_ops.cli.main import build_parser

JOB = {
    "job": "process_event",
    "pk": "EVT#twilio#SM1",
    "sk": "MESSAGE",
    "provider": "twilio",
    "kind": "message",
    "provider_message_id": "SM1",
}


def letter(attributes: dict[str, str], body: str = json.dumps(JOB)) -> DeadLetter:
    return DeadLetter("m-1", body, attributes, sent_at_ms=1_000_000, receipt_handle="h")


def test_a_dead_letter_from_the_worker_is_described_with_its_job():
    attributes = {
        "reason": "exhausted",
        "error": "InjectedFailure: injected failure on attempt 6",
        "attempts": "6",
        "provider": "twilio",
        "job_type": "message",
    }

    described = dlq.describe(letter(attributes), now=1_090.0)

    assert described["reason"] == "exhausted" and described["attempts"] == 6
    assert (described["pk"], described["provider_message_id"]) == ("EVT#twilio#SM1", "SM1")
    assert described["age_seconds"] == 90 and described["sent_at"] == "1970-01-01T00:16:40Z"


def test_a_dead_letter_moved_by_the_redrive_policy_has_no_reason_and_says_so():
    described = dlq.describe(letter({}, body="{not json"), now=1_000.0)

    assert (described["reason"], described["attempts"], described["provider"], described["pk"]) == (
        None,
        None,
        None,
        None,
    )
    assert "redrive policy" in dlq.render("DLQ", [described])


def test_the_dlq_table_has_the_columns_and_shortens_long_errors():
    described = dlq.describe(
        letter({"reason": "permanent", "error": "x" * 500, "attempts": "1"}), now=1_000.0
    )

    text = dlq.render("ProcessingDeadLetterQueue", [described])

    header = text.splitlines()[2]
    for column in ("MESSAGE ID", "PROVIDER", "JOB TYPE", "REASON", "ERROR", "ATTEMPTS", "AGE"):
        assert column in header
    assert "x" * 57 + "..." in text and "x" * 61 not in text
    assert dlq.render("ProcessingDeadLetterQueue", []) == "ProcessingDeadLetterQueue is empty."


@pytest.mark.parametrize(
    ("seconds", "shown"), [(None, "-"), (5, "5s"), (125, "2m"), (7200, "2h"), (172800, "2d")]
)
def test_ages_are_short(seconds, shown):
    assert dlq.age(seconds) == shown


def test_jobs_stats_renders_totals_then_by_provider_and_kind():
    summary = {
        "total": 2,
        "pending": 0,
        "processing": 0,
        "processed": 1,
        "exhausted": 1,
        "recovered": 1,
        "average_attempts": 3.5,
        "max_attempts": 6,
    }
    stats = {"table": "t", **summary, "by_provider": {"twilio": summary}, "by_kind": {"message": summary}}

    text = jobs.render(stats)

    assert "RECOVERED" in text and "AVG ATTEMPTS" in text
    assert [
        line.split()[0]
        for line in text.splitlines()
        if line and line.split()[0] in ("all", "twilio", "message")
    ] == [
        "all",
        "twilio",
        "message",
    ]


def test_redrive_requires_ids_or_all():
    parser = build_parser()

    with pytest.raises(SystemExit):
        parser.parse_args(["dlq", "redrive"])
    with pytest.raises(SystemExit):
        parser.parse_args(["dlq", "redrive", "--id", "a", "--all"])
    args = parser.parse_args(["dlq", "redrive", "--id", "a", "--id", "b"])
    assert args.ids == ["a", "b"] and args.queue == "ProcessingDeadLetterQueue"
