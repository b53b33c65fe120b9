"""ReconcileFunction's own continuation: a run near its time limit checkpoints, hands the checkpoint to the
continuation queue (template.yaml's SQS event source of the same function) and the follow-up invocation
continues it - here the SQS messages are received from moto and given to the handler as Lambda's event
source mapping would. Also: the lock stays with the run across checkpoints, duplicates are skipped, the
batched enqueue, and the outcome metrics the alarms watch."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from switchboard.dal.jobs_queue import JobsQueue
from switchboard.dal.reconcile_records import ReconcileRecords
from switchboard.errors import StoreUnavailable
from switchboard.models import Job
from switchboard.services.reconcile import wiring as reconcile_module
from switchboard_ops.local.sqs_events import receive_batch
from switchboard_ops.project import load_handler
from switchboard_ops.sandbox import Sandbox

BUSINESS = "+14155559876"
CUSTOMER = "+14155550123"
MESSAGES = 230  # three pages of the reconciler's 100


@pytest.fixture
def function(stack: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    """ReconcileFunction's module wired to moto and the sandbox; the test context's 10 s of remaining
    time is under the 60 s safety margin, so every page that has a next one ends in a checkpoint."""
    sandbox.reset()
    monkeypatch.setenv("ALERTS_TOPIC_ARN", stack.topics["AlertsTopic"])
    monkeypatch.setenv("RECONCILE_PROVIDERS", "twilio")
    monkeypatch.setenv("TWILIO_API_BASE_URL", sandbox.url)
    monkeypatch.setenv("RECONCILE_CONTINUATION_QUEUE_URL", stack.queues["ReconcileContinuationQueue"])
    return load_handler("reconcile")


@pytest.fixture
def handler(function: Any) -> Any:
    return function.handler


def receive(sandbox: Sandbox, count: int) -> None:
    now = time.time()
    for index in range(count):
        sandbox.inbound("twilio", CUSTOMER, BUSINESS, f"reply {index}", date=now - 60 - index, wait=False)


def take(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message on the queue, deleted: what Lambda's event source mapping would hand over."""
    taken: list[dict[str, Any]] = []
    while batch := receive_batch(sqs, queue_url):
        taken += batch
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return taken


def sqs_event(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [{"messageId": message["MessageId"], "body": message["Body"], "eventSource": "aws:sqs"}]
    }


def test_a_scheduled_run_hands_each_checkpoint_to_its_continuation_until_it_completes(
    stack, sandbox, handler, lambda_context, sqs
):
    receive(sandbox, MESSAGES)
    continuations = stack.queues["ReconcileContinuationQueue"]
    records = ReconcileRecords(stack.tables["EventsTable"])

    first = handler({"source": "aws.events", "detail-type": "Scheduled Event"}, lambda_context)

    assert first["status"] == "checkpointed"
    handed = take(sqs, continuations)
    assert len(handed) == 1 and json.loads(handed[0]["Body"])["resume_from"] == first["checkpoint"]
    # the lock stays with the run between invocations: no other run starts meanwhile
    assert reconcile_module.default_reconciler().run("twilio") == {"status": "locked"}

    second = handler(sqs_event(handed[0]), lambda_context)
    assert second == {"continued": [{"status": "checkpointed", "run": first["run"]}]}
    again = take(sqs, continuations)
    assert len(again) == 1

    third = handler(sqs_event(again[0]), lambda_context)
    assert third == {"continued": [{"status": "completed", "run": first["run"]}]}
    assert take(sqs, continuations) == []

    run = records.get_run(first["run"])
    assert run is not None and run["status"] == "completed" and run["segments"] == 3
    assert run["stats"]["twilio"]["pages"] == 3
    assert run["stats"]["twilio"]["new_messages"] == MESSAGES
    assert run["stats"]["twilio"]["existing_messages"] == 0  # no page listed twice across segments
    assert len(take(sqs, stack.queues["ProcessingQueue"])) == MESSAGES
    # released at the end
    assert records.acquire_lock("next", now=time.time(), ttl_seconds=60)

    # a duplicate delivery of an old continuation changes nothing
    records.release_lock("next")
    assert handler(sqs_event(handed[0]), lambda_context) == {
        "continued": [{"status": "skipped", "run": first["run"]}]
    }
    assert take(sqs, stack.queues["ProcessingQueue"]) == []


def test_a_continuation_that_finds_another_run_holding_the_lock_is_retried_by_sqs(
    stack, sandbox, function, lambda_context, sqs
):
    handler = function.handler
    receive(sandbox, 150)
    first = handler({"source": "aws.events"}, lambda_context)
    handed = take(sqs, stack.queues["ReconcileContinuationQueue"])
    records = ReconcileRecords(stack.tables["EventsTable"])
    # the run's lock expired (a lost continuation) and another run took it
    assert records.acquire_lock("another-run", now=time.time() + 3600, ttl_seconds=3600)

    with pytest.raises(function.ContinuationLocked):
        handler(sqs_event(handed[0]), lambda_context)
    run = records.get_run(first["run"])
    assert run is not None and run["status"] == "checkpointed"  # waiting, not lost

    records.release_lock("another-run")
    assert handler(sqs_event(handed[0]), lambda_context)["continued"][0]["status"] == "completed"


def test_a_continuation_message_without_a_checkpoint_is_refused_not_dropped(handler, lambda_context):
    with pytest.raises(ValueError, match="without a checkpoint"):
        handler({"Records": [{"messageId": "m1", "body": '{"hello": 1}'}]}, lambda_context)


def twilio_jobs(count: int) -> list[Job]:
    return [
        Job(
            pk=f"EVT#twilio#SM{i}",
            sk="MESSAGE",
            provider="twilio",
            kind="message",
            provider_message_id=f"SM{i}",
        )
        for i in range(count)
    ]


def test_jobs_are_enqueued_ten_to_a_request(stack, sqs):
    calls: list[int] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            return getattr(sqs, name)

        def send_message_batch(self, **request: Any) -> Any:
            calls.append(len(request["Entries"]))
            return sqs.send_message_batch(**request)

    jobs = twilio_jobs(25)
    assert JobsQueue(stack.queues["ProcessingQueue"], sqs=Recording()).enqueue_jobs(jobs) == []
    assert calls == [10, 10, 5]
    assert sorted(json.loads(m["Body"])["pk"] for m in take(sqs, stack.queues["ProcessingQueue"])) == sorted(
        job.pk for job in jobs
    )


def test_entries_sqs_refuses_are_retried_once_then_returned(stack, sqs):
    class Flaky:
        def __init__(self) -> None:
            self.rounds = 0

        def send_message_batch(self, **request: Any) -> Any:
            self.rounds += 1
            entries = request["Entries"]
            failed = [entry for entry in entries if entry["Id"] == "0"]
            ok = [entry for entry in entries if entry["Id"] != "0"]
            if ok:
                sqs.send_message_batch(QueueUrl=request["QueueUrl"], Entries=ok)
            return {
                "Failed": [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in failed]
            }

    jobs = twilio_jobs(3)
    flaky = Flaky()
    assert JobsQueue(stack.queues["ProcessingQueue"], sqs=flaky).enqueue_jobs(jobs) == [jobs[0]]
    assert flaky.rounds == 2
    assert len(take(sqs, stack.queues["ProcessingQueue"])) == 2


def emitted(output: str) -> dict[tuple[str, str | None], float]:
    """Powertools EMF documents on stdout: {(metric name, provider dimension or None): value}."""
    values: dict[tuple[str, str | None], float] = {}
    for line in output.splitlines():
        if '"_aws"' in line:
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = document[metric["Name"]]  # a list when Powertools collected several
                    values[(metric["Name"], document.get("provider"))] = (
                        sum(value) if isinstance(value, list) else value
                    )
    return values


def test_a_run_reports_the_missing_share_by_provider_and_in_total(stack, sandbox, function, capsys):
    receive(sandbox, 40)
    capsys.readouterr()
    result = reconcile_module.default_reconciler().run("twilio")

    assert result["status"] == "completed" and result["totals"]["errors"] == 0
    metrics = emitted(capsys.readouterr().out)
    assert metrics[("ReconciledMissing", "twilio")] == 40
    assert metrics[("ReconciledMissing", None)] == 40
    assert metrics[("ReconciledMissingPercent", None)] == 100.0
    assert metrics[("ReconcileRunFailed", None)] == 0


def test_messages_sent_from_other_tools_are_backfilled_but_leave_the_capture_rate_to_inbound(
    stack, sandbox, function, capsys
):
    from datetime import UTC, datetime, timedelta

    from switchboard.dal.events_table import EventsTable
    from switchboard.providers.twilio_listing import list_twilio_messages
    from switchboard.providers.twilio_rest import twilio_client

    # Given 4 inbound messages of which 3 came by webhook, and 6 sent from the Twilio console (no webhook)
    receive(sandbox, 4)
    console = twilio_client(sandbox.twilio_account_sid, sandbox.twilio_auth_token, base_url=sandbox.url)
    for n in range(6):
        console.messages.create(to=CUSTOMER, from_=BUSINESS, body=f"from the console {n}")
    assert sandbox.wait_idle()
    credentials = {"account_sid": sandbox.twilio_account_sid, "auth_token": sandbox.twilio_auth_token}
    now = datetime.now(UTC)
    listed = [
        m
        for page, _ in list_twilio_messages(
            credentials, after=now - timedelta(hours=1), before=now, base_url=sandbox.url
        )
        for m in page
    ]
    for message in [m for m in listed if m.direction == "inbound"][:3]:
        EventsTable(stack.tables["EventsTable"]).store_if_new(message)
    capsys.readouterr()

    # When reconciliation runs
    result = reconcile_module.default_reconciler().run("twilio")

    # Then all 7 it never had are stored, but only 1 of 4 inbound webhooks was missed: 25 %, not 70 %
    stats = result["stats"]["twilio"]
    assert (stats["new_messages"], stats["inbound_listed"], stats["inbound_missing"]) == (7, 4, 1)
    metrics = emitted(capsys.readouterr().out)
    assert metrics[("ReconciledMissing", "twilio")] == 7
    assert metrics[("ReconciledMissingPercent", None)] == 25.0


def test_a_store_outage_during_a_page_ends_the_provider_and_counts_the_run_as_failed(
    stack, sandbox, function, capsys
):
    receive(sandbox, 5)
    reconciler = reconcile_module.default_reconciler()

    def unavailable(keys: Any) -> set[tuple[str, str]]:
        raise StoreUnavailable("DynamoDB batch_get_item failed: ProvisionedThroughputExceededException")

    reconciler.records.existing_keys = unavailable  # type: ignore[method-assign]
    capsys.readouterr()
    result = reconciler.run("twilio")

    assert result["status"] == "completed" and result["totals"]["errors"] == 1
    assert emitted(capsys.readouterr().out)[("ReconcileRunFailed", None)] == 1


def test_a_sweep_that_fails_twice_is_an_error_of_the_run_not_its_end(stack, sandbox, function, capsys):
    receive(sandbox, 5)
    reconciler = reconcile_module.default_reconciler()
    attempts: list[int] = []

    def unavailable(**kwargs: Any) -> Any:
        attempts.append(1)
        raise StoreUnavailable("DynamoDB query failed: InternalServerError")

    reconciler.records.stuck_jobs = unavailable  # type: ignore[method-assign]
    capsys.readouterr()
    result = reconciler.run("twilio")

    assert result["status"] == "completed" and result["totals"]["new_messages"] == 5
    assert len(attempts) == 2  # beside the paging, then once more alone
    assert emitted(capsys.readouterr().out)[("ReconcileRunFailed", None)] == 1


def test_a_run_that_crashes_is_recorded_as_failed_counted_and_releases_the_lock(
    stack, sandbox, function, capsys
):
    receive(sandbox, 5)
    reconciler = reconcile_module.default_reconciler()
    records = ReconcileRecords(stack.tables["EventsTable"])
    put_run = records.put_run

    def store_down_at_the_end(run: dict[str, Any]) -> None:
        if run["status"] == "completed":
            raise StoreUnavailable("DynamoDB put_item failed: InternalServerError")
        put_run(run)

    reconciler.records.put_run = store_down_at_the_end  # type: ignore[method-assign]
    capsys.readouterr()
    with pytest.raises(StoreUnavailable):
        reconciler.run("twilio")

    assert records.list_runs()[0]["status"] == "failed"
    assert emitted(capsys.readouterr().out)[("ReconcileRunFailed", None)] == 1
    assert records.acquire_lock("next", now=time.time(), ttl_seconds=60)
