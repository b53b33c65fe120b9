"""The CLI's `dlq`, `jobs`, `health`, `send` and `alerts` output and arguments, from plain values (no
stack, no network)."""

from __future__ import annotations

import json

import pytest

from switchboard.dal.dead_letters import DeadLetter
from switchboard_ops.cli import alerts, dlq, health, jobs, send
from switchboard_ops.cli.main import build_parser
from switchboard_ops.cli.output import CliError
from switchboard_ops.cli.target import Target

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


# --- health, send, alerts -------------------------------------------------------------------------


def local_target(**state: object) -> Target:
    return Target(
        name="local", region="us-east-1", table_name="t", endpoint_url="http://x", state=dict(state)
    )


def test_health_stats_render_counts_rate_latency_and_the_last_failure():
    stats = {
        "days": 30.0,
        "since": "2026-10-26T10:00:00+00:00",
        "total": 4,
        "passed": 3,
        "failed": 1,
        "success_rate": 75.0,
        "last_failure": "1795601955-24792b0a",
        "latency_p50_ms": 290,
        "latency_p95_ms": 434,
        "in_progress": 1,
        "last_check": None,
    }

    text = health.render(stats)

    assert "last 30 days" in text and "75.0 %" in text and "290 ms" in text
    assert "last failure: 1795601955-24792b0a" in text


def test_a_local_send_defaults_to_the_sandboxs_number_and_a_fresh_operator_key():
    args = build_parser().parse_args(["send", "--to", "+14155550142", "--body", "hi"])

    request = send.build_request(args, local_target(sandbox={"twilio_numbers": ["+14155550100"]}))

    assert (request.sender, request.recipient, request.purpose, request.provider) == (
        "+14155550100",
        "+14155550142",
        "operator",
        "twilio",
    )
    assert request.send_key.startswith("operator-")
    assert (
        send.build_request(args, local_target(sandbox={"twilio_numbers": ["+1"]})).send_key
        != request.send_key
    )


def test_a_bad_send_is_a_usage_error_and_a_deployed_stack_needs_from():
    parser = build_parser()
    bad = parser.parse_args(["send", "--to", "12345", "--body", "hi", "--from", "+14155550100"])
    deployed = Target(name="prod", region="us-east-1", table_name="t")

    with pytest.raises(CliError, match="recipient"):
        send.build_request(bad, deployed)
    with pytest.raises(CliError, match="--from"):
        send.build_request(parser.parse_args(["send", "--to", "+14155550142", "--body", "hi"]), deployed)


def test_an_alert_is_the_sns_notification_in_the_inbox():
    body = json.dumps(
        {
            "Type": "Notification",
            "MessageId": "m-1",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:switchboard-local-AlertsTopic",
            "Subject": "Switchboard health check FAILED",
            "Message": "The canary 1795601952-55c4df70 did not come back within 2 s " + "x" * 100,
            "Timestamp": "2026-11-25T10:19:15.345Z",
        }
    )

    described = alerts.describe(DeadLetter("q-1", body, {}, sent_at_ms=0, receipt_handle="h"))

    assert (described["subject"], described["time"], described["message_id"]) == (
        "Switchboard health check FAILED",
        "2026-11-25T10:19:15.345Z",
        "m-1",
    )
    text = alerts.render([described])
    assert text.startswith("1 alert\n") and "SUBJECT" in text and "..." in text
    assert alerts.render([]) == "No alerts."


def test_alerts_of_a_deployed_stack_go_by_email():
    with pytest.raises(CliError, match="e-mail"):
        alerts.collect(Target(name="prod", region="us-east-1", table_name="t"), limit=10)


def test_the_new_commands_parse():
    parser = build_parser()

    assert parser.parse_args(["health", "run", "--wait", "--timeout", "5"]).timeout == 5
    assert parser.parse_args(["health", "stats", "--days", "7", "--json"]).days == 7
    assert parser.parse_args(["health", "stats", "--hours", "24"]).hours == 24
    with pytest.raises(SystemExit):
        parser.parse_args(["health", "stats", "--hours", "24", "--days", "1"])
    assert parser.parse_args(["alerts", "list", "--json"]).as_json is True
    assert parser.parse_args(["local", "trigger", "HealthCheckFunction"]).function == "HealthCheckFunction"
    assert parser.parse_args(["local", "up", "--schedules", "off"]).schedules == "off"
    with pytest.raises(SystemExit):
        parser.parse_args(["send", "--to", "+14155550142"])


def test_a_reader_that_goes_away_ends_the_command_quietly(monkeypatch, capsys):
    from switchboard_ops.cli import main as cli_main

    def closed_pipe(args):
        raise BrokenPipeError(32, "Broken pipe")

    parser = cli_main.build_parser()
    monkeypatch.setattr(cli_main, "build_parser", lambda: _with_run(parser, closed_pipe))
    assert cli_main.main(["reconcile", "runs"]) == 141
    assert "Traceback" not in capsys.readouterr().err


def _with_run(parser, run):
    original = parser.parse_args

    def parse_args(argv=None):
        args = original(argv)
        args.run = run
        return args

    parser.parse_args = parse_args
    return parser


def test_local_invoke_lists_every_function_with_its_sample_events():
    # When the functions `local invoke` can run are listed
    from switchboard_ops.cli.local import invocable_functions

    listed = {item["function"]: item for item in invocable_functions()}

    # Then each function of the template is there with its handler, and the events/ files that feed it
    assert {
        "IngestFunction",
        "WorkerFunction",
        "SenderFunction",
        "HealthCheckFunction",
        "ReconcileFunction",
    } <= set(listed)
    assert listed["IngestFunction"]["handler"] == "functions/ingest/app.handler"
    assert "events/ingest/twilio_inbound_sms.json" in listed["IngestFunction"]["events"]
    assert listed["WorkerFunction"]["events"] == ["events/worker/process_event.json"]
    assert listed["SenderFunction"]["events"] == ["events/sender/send_sms.json"]
    assert listed["ReconcileFunction"]["events"] == [
        "events/reconcile/daily_digest.json",
        "events/reconcile/integrity.json",
        "events/reconcile/manual_run.json",
    ]


def test_local_invoke_parses_like_sam_local_invoke():
    parser = build_parser()
    args = parser.parse_args(
        ["local", "invoke", "IngestFunction", "-e", "events/ingest/twilio_inbound_sms.json"]
    )
    assert (args.function, args.event, args.list) == (
        "IngestFunction",
        "events/ingest/twilio_inbound_sms.json",
        False,
    )
    assert parser.parse_args(["local", "invoke", "--list"]).list


@pytest.mark.parametrize("window", [["--days", "1e308"], ["--hours", "inf"], ["--hours", "99999999999"]])
def test_a_health_stats_window_beyond_any_date_is_a_usage_error_not_a_traceback(window, capsys):
    from switchboard_ops.cli.main import main

    # When the window reaches before year 1 (or is infinite)
    code = main(["health", "stats", *window])

    # Then one line on stderr and the usage exit code, before any AWS call
    assert code == 2
    assert capsys.readouterr().err.startswith("switchboard: --days / --hours must be")


@pytest.mark.parametrize("now", ["nan", "inf", "1e308", "-1"])
def test_local_curl_refuses_a_time_no_signature_can_carry(now, capsys):
    # When `local curl` is asked to sign as of a time that is not a Unix time a provider could send
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["local", "curl", "openphone_message_received", "--now", now])

    # Then it is a usage error naming the flag (it was a traceback converting it to milliseconds)
    assert exit_.value.code == 2
    assert "--now must be" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["health", "run", "--wait"], ["send", "--to", "+14155550142", "--body", "hi"]]
)
@pytest.mark.parametrize("timeout", ["-5", "nan", "inf"])
def test_a_wait_timeout_that_is_no_duration_is_refused_before_anything_is_sent(command, timeout, capsys):
    # `health run --timeout -5 --wait` sent a canary, then gave up at once: "still sent after -5 s"
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*command, "--timeout", timeout])

    assert exit_.value.code == 2 and "--timeout must be" in capsys.readouterr().err


def test_a_bad_send_names_the_problem_in_plain_words():
    args = build_parser().parse_args(["send", "--to", "abc", "--body", "hi", "--from", "+14155550100"])
    deployed = Target(name="prod", region="us-east-1", table_name="t")

    with pytest.raises(CliError) as refused:
        send.build_request(args, deployed)

    detail = refused.value.detail
    assert detail.startswith("not a valid send request: ") and "recipient" in detail
    assert ": :" not in detail and "Value error" not in detail
