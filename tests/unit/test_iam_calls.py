"""The call recorder: a handler's AWS calls are recorded as its function's, nothing else is, and a local
stack's calls reach the test session through a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from switchboard_ops.iam import calls
from switchboard_ops.iam.policy import resource_arn

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/unit-RecorderProbeQueue"


def stubbed_sqs() -> Stubber:
    client = boto3.Session(region_name="us-east-1").client("sqs")
    stubber = Stubber(client)
    stubber.activate()
    return stubber


def recorded_on_probe_queue() -> set[calls.Call]:
    recorder = calls.installed()
    assert recorder is not None  # the session's plugin installed it
    return {call for call in recorder.calls if call.resource == resource_arn("sqs", "RecorderProbeQueue")}


@pytest.fixture
def probe_calls_forgotten() -> Iterator[None]:
    """The probe's call is not the worker's real call: it must not reach the session's IAM check."""
    yield
    recorder = calls.installed()
    assert recorder is not None
    recorder.calls -= recorded_on_probe_queue()


@pytest.mark.usefixtures("probe_calls_forgotten")
def test_a_call_inside_a_handler_is_recorded_as_its_functions_and_one_outside_is_not() -> None:
    # Given an SQS client whose answers are stubbed (no network)
    stubber = stubbed_sqs()
    stubber.add_response("change_message_visibility", {})
    stubber.add_response("change_message_visibility", {})

    # When one call is made by a fixture and one inside the worker's handler
    stubber.client.change_message_visibility(QueueUrl=QUEUE_URL, ReceiptHandle="r", VisibilityTimeout=60)
    handler = calls.attributing(
        "WorkerFunction",
        lambda: stubber.client.change_message_visibility(
            QueueUrl=QUEUE_URL, ReceiptHandle="r", VisibilityTimeout=60
        ),
    )
    handler()

    # Then only the handler's call is recorded, as the worker's
    assert recorded_on_probe_queue() == {
        calls.Call(
            "WorkerFunction",
            "sqs:ChangeMessageVisibility",
            resource_arn("sqs", "RecorderProbeQueue"),
            "ChangeMessageVisibility",
        )
    }


def test_a_recording_stack_writes_each_distinct_call_once_for_the_session_to_read(tmp_path: Path) -> None:
    # Given a recorder writing to a file, as a local stack started with SWITCHBOARD_IAM_RECORD_DIR does
    path = tmp_path / "calls-1.jsonl"
    recorder = calls.CallRecorder(path)
    call = calls.Call(
        "IngestFunction", "sqs:SendMessage", resource_arn("sqs", "ProcessingQueue"), "SendMessage"
    )

    # When the same call is made twice
    recorder.add(call)
    recorder.add(call)

    # Then the file holds it once and reads back as the same call
    assert len(path.read_text().splitlines()) == 1
    assert calls.read_calls(path) == {call}
