"""The CLI's `reconcile run|runs` and `integrity check`: arguments, the invocation's event, checkpoint
resumption, the spinner thread and the tables, from plain values (no stack, no network)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from switchboard_ops.cli import reconcile
from switchboard_ops.cli.main import build_parser, main
from switchboard_ops.cli.output import CliError
from switchboard_ops.cli.target import Target

STATS = {
    "pages": 5,
    "messages_processed": 500,
    "new_messages": 48,
    "existing_messages": 452,
    "requeued": 1,
    "statuses_backfilled": 3,
    "errors": 0,
    "retries": 0,
    "throttled": 0,
}
SUMMARY = {
    "status": "completed",
    "run": "RUN#2026-11-25T10:00:00.000000Z",
    "started": "2026-11-25T10:00:00.000000Z",
    "finished": "2026-11-25T10:00:03.000000Z",
    "window_start": "2026-11-25T09:00:00.000000Z",
    "window_end": "2026-11-25T10:00:00.000000Z",
    "stats": {"twilio": STATS},
    "totals": STATS,
    "requeued": 1,
    "duration_seconds": 3.25,
}


def recording(sent: list[dict[str, Any]], answer: Any) -> Any:
    """A stand-in for reconcile.invoke: records each event, answers `answer` (a callable: its result)."""

    def invoke(target: Target, event: dict[str, Any]) -> Any:
        sent.append(event)
        return answer() if callable(answer) else answer

    return invoke


LOCAL = Target(name="local", region="us-east-1", table_name="t", endpoint_url="http://127.0.0.1:1")


def test_the_run_arguments_have_their_defaults():
    args = build_parser().parse_args(["reconcile", "run"])
    assert (args.hours, args.provider, args.as_json, args.run) == (48.0, None, False, reconcile.run_reconcile)
    args = build_parser().parse_args(["reconcile", "run", "--hours", "1", "--provider", "twilio", "--json"])
    assert (args.hours, args.provider, args.as_json) == (1.0, "twilio", True)
    assert build_parser().parse_args(["reconcile", "runs"]).limit == 10
    check = build_parser().parse_args(["integrity", "check"])
    assert (check.days, check.run) == (7, reconcile.run_integrity)


def test_the_manual_event_names_the_provider_only_when_given():
    assert reconcile.manual_event(48.0, None) == {"action": "reconcile", "hours": 48.0}
    assert reconcile.manual_event(1.0, "twilio") == {
        "action": "reconcile",
        "hours": 1.0,
        "provider": "twilio",
    }


class Clock:
    """A fake monotonic clock that `sleep` advances."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


CHECKPOINT = {"run": SUMMARY["run"], "provider": "twilio", "cursor": "/page2", "lock": "t1"}
RECORD = {**SUMMARY, "sk": SUMMARY["run"], "status": "completed"}


def test_a_checkpointed_run_continues_by_itself_and_the_cli_follows_its_record(monkeypatch):
    events: list[dict[str, Any]] = []
    monkeypatch.setattr(
        reconcile, "invoke", recording(events, {"status": "checkpointed", "checkpoint": CHECKPOINT})
    )
    records = [
        {**RECORD, "status": "checkpointed", "checkpoint": CHECKPOINT},
        {**RECORD, "status": "running"},
        RECORD,
    ]
    clock = Clock()

    result = reconcile.reconcile(
        LOCAL,
        {"action": "reconcile", "hours": 1.0},
        read_run=lambda sk: records.pop(0),
        clock=clock,
        sleep=clock.sleep,
    )

    assert result["status"] == "completed" and result["totals"] == STATS and result["run"] == SUMMARY["run"]
    assert events == [{"action": "reconcile", "hours": 1.0}]  # never resumed by hand: it continued itself


def test_a_checkpoint_nobody_takes_up_is_resumed_by_the_cli(monkeypatch):
    events: list[dict[str, Any]] = []
    answers = [{"status": "checkpointed", "checkpoint": CHECKPOINT}, SUMMARY]
    monkeypatch.setattr(reconcile, "invoke", recording(events, lambda: answers.pop(0)))
    clock = Clock()
    stuck = {**RECORD, "status": "checkpointed", "checkpoint": CHECKPOINT}

    result = reconcile.reconcile(
        LOCAL,
        {"action": "reconcile", "hours": 1.0},
        read_run=lambda sk: stuck,
        clock=clock,
        sleep=clock.sleep,
    )

    assert result == SUMMARY
    assert events == [{"action": "reconcile", "hours": 1.0}, {"resume_from": CHECKPOINT}]
    assert clock.now >= reconcile.STALL_SECONDS


def test_a_run_that_stops_moving_is_reported_not_waited_for_forever(monkeypatch):
    monkeypatch.setattr(
        reconcile, "invoke", lambda target, event: {"status": "checkpointed", "checkpoint": CHECKPOINT}
    )
    clock = Clock()
    running = {**RECORD, "status": "running"}
    with pytest.raises(CliError, match="has not moved"):
        reconcile.reconcile(LOCAL, {}, read_run=lambda sk: running, clock=clock, sleep=clock.sleep)


def test_an_answer_without_a_status_is_an_error(monkeypatch):
    monkeypatch.setattr(reconcile, "invoke", lambda target, event: None)
    with pytest.raises(CliError, match="answered null"):
        reconcile.reconcile(LOCAL, {})


def test_the_spinner_shows_elapsed_time_while_the_work_runs_and_clears_its_line():
    import threading

    release = threading.Event()
    out = io.StringIO()

    def work() -> dict[str, Any]:
        release.wait(2)
        return SUMMARY

    threading.Timer(0.1, release.set).start()
    assert reconcile.run_with_spinner(work, out=out, interval=0.02) == SUMMARY
    text = out.getvalue()
    assert "reconciling" in text and " s" in text and text.endswith("\r")


def test_the_spinner_reraises_the_works_error_in_the_callers_thread():
    def work() -> dict[str, Any]:
        raise CliError("boom", error="function_error", exit_code=1)

    with pytest.raises(CliError, match="boom"):
        reconcile.run_with_spinner(work, out=None, interval=0.01)


def test_the_run_table_has_a_row_per_provider_and_the_totals():
    text = reconcile.render_run(SUMMARY)
    lines = text.splitlines()
    assert lines[0].startswith(f"run {SUMMARY['run']}  completed  window 2026-11-25T09:00")
    assert lines[2].split() == [
        "PROVIDER",
        "PAGES",
        "PROCESSED",
        "NEW",
        "EXISTING",
        "REQUEUED",
        "STATUSES",
        "ERRORS",
        "DURATION",
    ]
    assert lines[3].split() == ["twilio", "5", "500", "48", "452", "1", "3", "0", "-"]
    assert lines[4].split() == ["TOTAL", "5", "500", "48", "452", "1", "3", "0", "3.2", "s"]


def test_a_run_without_totals_sums_its_providers():
    two = {**SUMMARY, "stats": {"twilio": STATS, "openphone": {**STATS, "new_messages": 2}}}
    del two["totals"]
    text = reconcile.render_run(two)
    assert [line.split()[:4] for line in text.splitlines() if line.startswith("TOTAL")] == [
        ["TOTAL", "10", "1000", "50"]
    ]
    assert "DURATION is the run's" in text


def test_runs_are_described_with_their_totals_and_listed_newest_first():
    record = {
        "pk": "RECONCILE",
        "sk": "RUN#2026-11-25T10:00:00.000000Z",
        "status": "running",
        "started": "2026-11-25T10:00:00.000000Z",
        "window_hours": 1,
        "providers": ["twilio"],
        "stats": {"twilio": STATS},
        "elapsed_seconds": 0,
    }
    described = reconcile.describe_run(record)
    assert described["totals"]["new_messages"] == 48 and described["duration_seconds"] == 0
    text = reconcile.render_runs([described])
    assert text.splitlines()[1].split() == [
        "2026-11-25T10:00:00.000000Z",
        "running",
        "1",
        "twilio",
        "5",
        "500",
        "48",
        "452",
        "1",
        "3",
        "0",
        "0.0",
        "s",
    ]
    assert "no reconciliation runs yet" in reconcile.render_runs([])


def test_the_integrity_summary_adds_the_overall_consistency_and_renders_each_day():
    result = {
        "status": "alert",
        "below_threshold": 1,
        "days": [
            {
                "provider": "twilio",
                "day": "2026-11-23",
                "provider_count": 100,
                "stored_count": 100,
                "consistency": 1.0,
            },
            {
                "provider": "twilio",
                "day": "2026-11-24",
                "provider_count": 100,
                "stored_count": 90,
                "consistency": 0.9,
            },
            {
                "provider": "twilio",
                "day": "2026-11-25",
                "provider_count": 0,
                "stored_count": 3,
                "consistency": 1.0,
            },
        ],
    }
    summary = reconcile.integrity_summary(result)
    assert (summary["provider_count"], summary["stored_count"], summary["consistency"]) == (200, 193, 0.95)
    text = reconcile.render_integrity(summary)
    assert "2026-11-24  twilio" in text and "90.00%" in text
    assert "193 stored of 200 listed, consistency 95.00%; 1 day(s) below the threshold" in text
    assert reconcile.integrity_summary({"status": "ok", "days": []})["consistency"] == 1.0


def test_integrity_check_exits_1_when_a_day_is_below_the_threshold(monkeypatch, capsys):
    monkeypatch.setattr(reconcile, "resolve", lambda args: LOCAL)
    sent: list[dict[str, Any]] = []
    answer = {"status": "alert", "below_threshold": 1, "days": []}
    monkeypatch.setattr(reconcile, "invoke", recording(sent, answer))

    assert main(["integrity", "check", "--days", "3", "--json"]) == 1
    assert sent == [{"action": "integrity", "days": 3}]
    assert json.loads(capsys.readouterr().out)["below_threshold"] == 1


def test_reconcile_run_json_prints_the_summary_only(monkeypatch, capsys):
    monkeypatch.setattr(reconcile, "resolve", lambda args: LOCAL)
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(reconcile, "invoke", recording(sent, SUMMARY))

    assert main(["reconcile", "run", "--hours", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == SUMMARY and captured.err == ""
    assert sent == [{"action": "reconcile", "hours": 1.0}]


def test_a_locked_run_exits_1_and_bad_arguments_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(reconcile, "resolve", lambda args: LOCAL)
    monkeypatch.setattr(reconcile, "invoke", lambda target, event: {"status": "locked"})

    assert main(["reconcile", "run", "--json"]) == 1
    assert json.loads(capsys.readouterr().err)["error"] == "locked"
    assert main(["reconcile", "run", "--hours", "0"]) == 2
    assert main(["reconcile", "runs", "--limit", "0"]) == 2


def test_a_deployed_stack_without_the_function_output_is_not_supported():
    deployed = Target(name="prod", region="us-east-1", table_name="t", outputs={})
    with pytest.raises(CliError, match="no ReconcileFunctionName output"):
        reconcile.invoke(deployed, {})


def test_the_spinner_shows_the_runs_progress_while_it_works():
    import io
    import threading

    from switchboard_ops.cli.reconcile import run_with_spinner

    shown = threading.Event()
    out = io.StringIO()

    def progress() -> str:
        shown.set()
        return "pages 3  messages 300  new 12"

    result = run_with_spinner(lambda: {"done": shown.wait(30)}, out=out, interval=0.01, progress=progress)

    assert result == {"done": True}
    assert "pages 3  messages 300  new 12" in out.getvalue()


def test_the_progress_line_is_a_bar_of_the_share_done_with_the_current_provider_and_counts():
    # Given a run half-way through its second of two providers
    run = {
        "providers": ["twilio", "openphone"],
        "position": 1,
        "done": 0.75,
        "stats": {"twilio": STATS, "openphone": {**STATS, "pages": 2, "messages_processed": 150}},
    }

    line = reconcile.progress_line(run, width=20)

    # Then the bar is three quarters full and the counts are the run's totals so far
    assert line.startswith("[" + "#" * 15 + "-" * 5 + "]  75%  openphone  ")
    assert line.endswith("pages 7  messages 650  new 96")


def test_the_progress_line_of_a_run_record_without_a_share_shows_an_empty_bar():
    line = reconcile.progress_line({"providers": ["twilio"], "position": 0, "stats": {}})
    assert line.startswith("[" + "-" * 20 + "]   0%  twilio  pages 0")


@pytest.mark.parametrize(
    "argv",
    [
        ["reconcile", "run", "--hours", "745"],  # ReconcileFunction refuses more than 31 days
        ["reconcile", "run", "--hours", "1e308"],
        ["integrity", "check", "--days", "32"],
        ["integrity", "check", "--days", "100000000"],  # was an OverflowError inside the function
    ],
)
def test_a_window_the_function_refuses_is_a_usage_error_before_any_invoke(argv, monkeypatch, capsys):
    invoked: list[Any] = []
    monkeypatch.setattr(reconcile, "resolve", lambda args: LOCAL)
    monkeypatch.setattr(reconcile, "invoke", lambda target, event: invoked.append(event))

    assert main([*argv, "--json"]) == 2
    assert json.loads(capsys.readouterr().err)["error"] == "usage"
    assert invoked == []
