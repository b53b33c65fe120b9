"""`switchboard local invoke FUNCTION -e EVENT_FILE`: what `sam local invoke -e` does, without Docker, with
the same events/ files, against the running local stack."""

from __future__ import annotations

import json

import pytest

from switchboard_ops.project import EVENTS

pytestmark = pytest.mark.e2e


def test_the_ingest_sample_event_is_stored_through_the_running_stack(live_stack):
    # Given an events/ file `sam local invoke IngestFunction -e` would take (SmartLead's secret rides in the
    # body: no URL or time is signed, so it verifies on any port; Twilio's samples are signed for :3000)
    event = EVENTS / "ingest" / "smartlead_email_reply.json"

    # When it is invoked through the local stack
    result = live_stack.cli("local", "invoke", "IngestFunction", "-e", str(event))

    # Then the handler's API Gateway response is printed, and the reply is in the stack's table
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200, response
    outcome = json.loads(response["body"])
    assert outcome["outcome"] in ("stored", "duplicate")
    assert live_stack.message("smartlead", outcome["provider_message_id"]) is not None


def test_the_weekly_integrity_event_runs_the_reconcile_function(live_stack):
    # When ReconcileFunction is invoked with its weekly schedule's input
    event = EVENTS / "reconcile" / "integrity.json"
    result = live_stack.cli("local", "invoke", "ReconcileFunction", "-e", str(event))

    # Then it ran the integrity check over the last 7 days and printed its report
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] in ("ok", "alert")
    assert len({row["day"] for row in report["days"]}) == 7


def test_a_function_that_raises_exits_1_with_its_error(live_stack, tmp_path):
    # Given an event the function refuses by raising
    event = tmp_path / "bad.json"
    event.write_text('{"action": "no-such-action"}')

    # When it is invoked
    result = live_stack.cli("local", "invoke", "ReconcileFunction", "-e", str(event))

    # Then the command fails with the function's error as JSON on stderr
    assert result.returncode == 1
    error = json.loads(result.stderr)
    assert error["error"] == "function_error" and "no-such-action" in error["detail"]


def test_a_missing_event_file_is_a_usage_error(live_stack, tmp_path):
    result = live_stack.cli("local", "invoke", "IngestFunction", "-e", str(tmp_path / "absent.json"))

    assert result.returncode != 0
    assert json.loads(result.stderr)["error"] == "usage"


@pytest.mark.parametrize(
    ("function", "event"),
    [
        ("HealthCheckFunction", "health_check/scheduled.json"),
        ("ReconcileFunction", "reconcile/manual_run.json"),
    ],
)
def test_every_scheduled_functions_sample_event_runs(live_stack, function, event):
    # When a scheduled function is invoked with its sample event
    result = live_stack.cli("local", "invoke", function, "-e", str(EVENTS / event))

    # Then it ran to the end and printed a result
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)
