"""`switchboard local invoke FUNCTION -e EVENT_FILE`: what `sam local invoke -e` does, without Docker, with
the same events/ files, against the running local stack."""

from __future__ import annotations

import json

import pytest

from switchboard_ops.local.samples import load_sample
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


def test_the_workers_sample_event_is_the_sample_messages_job_and_does_not_run_it_twice(live_stack):
    # Given the README's sample Twilio SMS, accepted and processed by the stack
    response = live_stack.post(load_sample("twilio_inbound_sms"))
    assert response.status_code == 200, response.text
    provider, message_id = response.json()["provider"], response.json()["provider_message_id"]
    before = live_stack.wait_for_message(
        provider, message_id, lambda found: found["job_state"] == "PROCESSED", timeout=60, what="PROCESSED"
    )

    # When WorkerFunction is invoked with its sample event (that message's job, as ProcessingQueue holds it)
    result = live_stack.cli(
        "local", "invoke", "WorkerFunction", "-e", str(EVENTS / "worker" / "process_event.json")
    )

    # Then the batch succeeded and the job was not run again: the same message, attempts unchanged
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"batchItemFailures": []}
    after = live_stack.message(provider, message_id)
    assert (after["job_state"], after["attempts"]) == ("PROCESSED", before["attempts"])


def test_the_senders_sample_event_texts_the_sandbox_once_however_often_it_is_invoked(live_stack):
    # Given the sender's sample event: one send request, as OutboundQueue holds it
    event = EVENTS / "sender" / "send_sms.json"
    request = json.loads(json.loads(event.read_text())["Records"][0]["body"])

    # When SenderFunction is invoked with it twice
    results = [live_stack.cli("local", "invoke", "SenderFunction", "-e", str(event)) for _ in range(2)]

    # Then both batches succeeded and the sandbox provider received the SMS once
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert all(json.loads(r.stdout) == {"batchItemFailures": []} for r in results)
    received = [
        message
        for message in live_stack.sandbox("GET", "/sandbox/messages")["messages"]
        if message["body"] == request["body"]
    ]
    assert [(m["from"], m["to"]) for m in received] == [(request["sender"], [request["recipient"]])]
