"""The local stack's SQS event-source mapping: Lambda's delete-what-succeeded rules, the poller around
them, and the queue's redrive policy (applied by moto itself) - moto in-process, no network."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from moto import mock_aws

from switchboard.services.processing.backoff import QUEUE_MAX_RECEIVES
from switchboard_ops.local.functions import SqsEventSource, function_specs
from switchboard_ops.local.provision import provision
from switchboard_ops.local.sqs_events import batch_outcome
from switchboard_ops.local.sqs_poller import SqsPoller
from switchboard_ops.local.template import load_template


def messages(*ids: str) -> list[dict[str, Any]]:
    return [{"MessageId": i, "ReceiptHandle": f"handle-{i}", "Body": "{}"} for i in ids]


def deleted(outcome: Any) -> list[str]:
    return [message["MessageId"] for message in outcome.delete]


BATCH = messages("a", "b", "c")


@pytest.mark.parametrize(
    "response",
    [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}, {"other": 1}],
    ids=["None", "empty", "empty-list", "null-list", "no-list"],
)
def test_a_response_reporting_no_failures_deletes_the_whole_batch(response):
    outcome = batch_outcome(BATCH, response, report_batch_item_failures=True)

    assert deleted(outcome) == ["a", "b", "c"]
    assert outcome.failed_ids == [] and not outcome.whole_batch_failed


def test_reported_failures_stay_and_the_rest_is_deleted():
    response = {"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "c"}]}

    outcome = batch_outcome(BATCH, response, report_batch_item_failures=True)

    assert deleted(outcome) == ["a"]
    assert outcome.failed_ids == ["b", "c"] and not outcome.whole_batch_failed


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "a"}]},
        {"batchItemFailures": "a"},
        "ok",
        ["a"],
    ],
    ids=["unknown-id", "empty-id", "null-id", "bad-key", "not-a-list", "a-string", "a-list"],
)
def test_a_response_lambda_cannot_read_fails_the_whole_batch(response):
    outcome = batch_outcome(BATCH, response, report_batch_item_failures=True)

    assert deleted(outcome) == []
    assert outcome.whole_batch_failed and outcome.failed_ids == ["a", "b", "c"]
    assert "invalid batch response" in outcome.reason


@pytest.mark.parametrize("report", [True, False])
def test_an_invocation_that_raised_leaves_the_whole_batch(report):
    outcome = batch_outcome(BATCH, None, report_batch_item_failures=report, raised=True)

    assert deleted(outcome) == [] and outcome.whole_batch_failed


def test_without_report_batch_item_failures_the_response_is_ignored_and_all_is_deleted():
    response = {"batchItemFailures": [{"itemIdentifier": "b"}]}

    outcome = batch_outcome(BATCH, response, report_batch_item_failures=False)

    assert deleted(outcome) == ["a", "b", "c"]


def test_the_template_maps_processing_queue_to_the_worker_with_partial_batch_responses():
    specs = function_specs(load_template())

    assert specs["WorkerFunction"].sqs_events == (
        SqsEventSource(
            function="WorkerFunction",
            queue="ProcessingQueue",
            batch_size=10,
            batching_window_seconds=1,
            report_batch_item_failures=True,
        ),
    )
    assert specs["IngestFunction"].sqs_events == ()


# ---------------------------------------------------------------- the poller against moto, in-process


class Recorder:
    """A function: records each event, answers with `respond(event)`."""

    def __init__(self, respond: Any) -> None:
        self.respond = respond
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.respond(event)


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def poller(sqs: Any, url: str, function: Any, *, report: bool = True, batch_size: int = 10) -> SqsPoller:
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = SqsEventSource("Fn", "Queue", batch_size=batch_size, report_batch_item_failures=report)
    return SqsPoller(
        source, url, arn, function, sqs, threading.Event(), wait_seconds=0, log=lambda line: None
    )


def visible(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_the_poller_delivers_a_lambda_sqs_event_and_deletes_only_what_succeeded(sqs):
    # Given three messages, and a function that reports the one with body "bad" failed
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    for body in ("good-1", "bad", "good-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    def respond(event: dict[str, Any]) -> dict[str, Any]:
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    function = Recorder(respond)

    # When it polls once
    outcome = poller(sqs, url, function).poll_once()

    # Then the function got one SQS event with all three, and only "bad" is still in the queue
    assert outcome is not None and len(outcome.delete) == 2
    (event,) = function.events
    record = event["Records"][0]
    assert {r["body"] for r in event["Records"]} == {"good-1", "bad", "good-2"}
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":q")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    remaining = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in remaining] == ["bad"]


def test_the_poller_takes_at_most_batch_size_messages(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for index in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    function = Recorder(lambda event: None)

    poller(sqs, url, function, batch_size=2).poll_once()

    assert len(function.events[0]["Records"]) == 2 and visible(sqs, url) == 3


def test_an_empty_queue_invokes_nothing(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    function = Recorder(lambda event: None)

    assert poller(sqs, url, function).poll_once() is None
    assert function.events == []


def test_a_function_that_raises_leaves_the_batch_and_the_redrive_policy_moves_it_after_max_receives(sqs):
    # Given the template's ProcessingQueue (maxReceiveCount 9), its visibility shortened for the test,
    # and a function that always raises
    with_template = provision(boto3.Session(region_name="us-east-1"), prefix="t")
    url = with_template.queues["ProcessingQueue"]
    dead_letters = with_template.queues["ProcessingDeadLetterQueue"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"job": "x"}))

    def fail(event: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    function = Recorder(fail)
    polling = poller(sqs, url, function)

    # When it polls until nothing comes any more
    outcomes = [polling.poll_once() for _ in range(QUEUE_MAX_RECEIVES + 2)]

    # Then maxReceiveCount receives failed the whole batch, and then SQS (moto) moved the message to the DLQ
    assert [o is not None and o.whole_batch_failed for o in outcomes] == [True] * QUEUE_MAX_RECEIVES + [
        False,
        False,
    ]
    receive_counts = [e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in function.events]
    assert receive_counts == [str(count) for count in range(1, QUEUE_MAX_RECEIVES + 1)]
    assert visible(sqs, url) == 0 and visible(sqs, dead_letters) == 1


def test_the_poller_stops_when_asked(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    polling = poller(sqs, url, Recorder(lambda event: None))
    thread = threading.Thread(target=polling.run, daemon=True)
    thread.start()

    polling.stop.set()
    thread.join(timeout=5)

    assert not thread.is_alive()


def test_pollers_sharing_a_batch_lock_invoke_one_batch_at_a_time(sqs):
    # Given a poller whose batch lock another function's batch holds
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    function = Recorder(lambda event: None)
    polling = poller(sqs, url, function)
    polling.batch_lock = threading.Lock()
    polling.batch_lock.acquire()

    # When it polls
    thread = threading.Thread(target=polling.poll_once, daemon=True)
    thread.start()
    thread.join(timeout=0.5)

    # Then it waits for the other batch, and runs once that is done
    assert thread.is_alive() and function.events == []
    polling.batch_lock.release()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(function.events) == 1
