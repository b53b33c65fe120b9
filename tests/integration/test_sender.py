"""SenderFunction's service against moto: at most once, suppression, 21610, retries, dead-lettering.

The provider here is a stand-in transport (the internet is the one thing a test cannot have); the
sandbox-provider tests drive the real twilio SDK over HTTP.
"""

from __future__ import annotations

import json
from itertools import count
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from switchboard.dal.dead_letters import RetryQueues
from switchboard.dal.events_table import EventsTable
from switchboard.dal.items import from_item
from switchboard.dal.job_records import JobRecords
from switchboard.dal.jobs_queue import JobsQueue
from switchboard.dal.outbound_records import OutboundRecords
from switchboard.errors import EnqueueFailed
from switchboard.models.outbound import SendRequest
from switchboard.providers.outbound import SendAmbiguous, SendRejected, SendUnavailable, Sent
from switchboard.services.ratelimit import TokenBucket
from switchboard.services.sender import Sender
from switchboard_ops.iam.calls import attributing
from switchboard_ops.local.sqs_events import receive_batch


class Provider:
    """Counts calls; answers with a new SM id, or raises what the test scripted."""

    def __init__(self, *outcomes: Exception) -> None:
        self.calls: list[SendRequest] = []
        self.outcomes = list(outcomes)
        self.ids = count(1)

    def __call__(self, request: SendRequest) -> Sent:
        self.calls.append(request)
        if self.outcomes:
            raise self.outcomes.pop(0)
        return Sent(provider_message_id=f"SM{next(self.ids):032d}", status="queued")


@pytest.fixture
def queues(stack, sqs):
    for name in ("OutboundQueue", "OutboundDeadLetterQueue"):
        assert name in stack.queues
    return RetryQueues(stack.queues["OutboundQueue"], stack.queues["OutboundDeadLetterQueue"])


def sender(stack: Any, queues: RetryQueues, provider: Provider) -> Sender:
    table = stack.tables["EventsTable"]
    service = Sender(
        records=OutboundRecords(table),
        consents=JobRecords(table),
        queues=queues,
        transports={"twilio": provider, "openphone": provider},
        limits={"twilio": TokenBucket(1000), "openphone": TokenBucket(1000)},
        store=EventsTable(table),
        jobs=JobsQueue(stack.queues["ProcessingQueue"]),
    )
    # SenderFunction's own code, driven without its handler: its AWS calls still count in the IAM check.
    service.handle = attributing("SenderFunction", service.handle)  # type: ignore[method-assign]
    return service


def request(**changes: Any) -> SendRequest:
    return SendRequest(
        **{
            "send_key": "reminder-42",
            "provider": "twilio",
            "sender": "+14155559876",
            "recipient": "+14155550123",
            "body": "See you Tuesday at 3pm",
            **changes,
        }
    )


def send_record(dynamodb: Any, stack: Any, key: str = "reminder-42") -> dict[str, Any]:
    item = dynamodb.get_item(
        TableName=stack.tables["EventsTable"], Key={"pk": {"S": f"SEND#{key}"}, "sk": {"S": "SEND"}}
    )
    return from_item(item.get("Item", {}))


def test_a_send_reaches_the_provider_once_and_is_stored_as_an_outbound_message(stack, dynamodb, sqs, queues):
    provider = Provider()
    service = sender(stack, queues, provider)

    outcomes = [
        service.handle(request().model_dump_json(), receipt_handle="r", receive_count=n) for n in (1, 2)
    ]

    assert outcomes == ["sent", "skipped"]
    assert len(provider.calls) == 1
    record = send_record(dynamodb, stack)
    assert (record["state"], record["provider_message_id"]) == ("SENT", f"SM{1:032d}")
    stored = EventsTable(stack.tables["EventsTable"]).get(f"EVT#twilio#SM{1:032d}", "MESSAGE")
    assert stored is not None
    assert (stored["direction"], stored["source"]) == ("outbound", "sender")
    assert [json.loads(m["Body"])["kind"] for m in receive_batch(sqs, stack.queues["ProcessingQueue"])] == [
        "message"
    ]


def test_a_crash_between_the_provider_call_and_the_record_is_flagged_never_resent(
    stack, dynamodb, queues, monkeypatch
):
    # Given a sender that dies right after the provider accepted the message
    provider = Provider()
    service = sender(stack, queues, provider)

    def crash(*args: Any, **kwargs: Any) -> bool:
        raise SystemExit("Lambda timed out")

    monkeypatch.setattr(service.records, "finish", crash)
    with pytest.raises(SystemExit):
        service.handle(request().model_dump_json(), receipt_handle="r", receive_count=1)
    monkeypatch.undo()

    # When SQS delivers the request again
    outcome = service.handle(request().model_dump_json(), receipt_handle="r", receive_count=2)

    # Then it is flagged for review and the provider was called only once
    assert outcome == "ambiguous"
    assert len(provider.calls) == 1
    record = send_record(dynamodb, stack)
    assert (record["state"], record["needs_review"]) == ("AMBIGUOUS", True)


def test_a_read_timeout_is_ambiguous_and_not_retried(stack, dynamodb, queues):
    provider = Provider(SendAmbiguous("read timeout"))
    service = sender(stack, queues, provider)

    outcome = service.handle(request().model_dump_json(), receipt_handle="r", receive_count=1)
    again = service.handle(request().model_dump_json(), receipt_handle="r", receive_count=2)

    assert (outcome, again) == ("ambiguous", "skipped")
    assert len(provider.calls) == 1


def test_a_suppressed_number_is_never_texted(stack, dynamodb, queues):
    from switchboard.models.plan import Consent, ConsentChange

    JobRecords(stack.tables["EventsTable"]).record_consent(
        ConsentChange(
            channel="sms",
            address="+14155550123",
            consent=Consent.OPT_OUT,
            at="2026-11-25T08:00:00+00:00",
            message_pk="EVT#twilio#SMstop",
        )
    )
    provider = Provider()

    outcome = sender(stack, queues, provider).handle(
        request().model_dump_json(), receipt_handle="r", receive_count=1
    )

    assert outcome == "suppressed" and provider.calls == []
    assert send_record(dynamodb, stack)["state"] == "SUPPRESSED"


def test_21610_suppresses_the_number_for_later_sends(stack, dynamodb, queues):
    provider = Provider(SendRejected("21610", "Attempt to send to unsubscribed recipient"))
    service = sender(stack, queues, provider)

    first = service.handle(request().model_dump_json(), receipt_handle="r", receive_count=1)
    second = service.handle(
        request(send_key="reminder-43").model_dump_json(), receipt_handle="r", receive_count=1
    )

    assert (first, second) == ("suppressed", "suppressed")
    assert len(provider.calls) == 1
    assert (send_record(dynamodb, stack)["state"], send_record(dynamodb, stack)["error_code"]) == (
        "SUPPRESSED",
        "21610",
    )
    assert JobRecords(stack.tables["EventsTable"]).is_suppressed("sms", "+14155550123")


def test_other_rejections_are_final(stack, dynamodb, queues):
    provider = Provider(SendRejected("21211", "Invalid 'To' Phone Number"))

    outcome = sender(stack, queues, provider).handle(
        request().model_dump_json(), receipt_handle="r", receive_count=1
    )

    assert outcome == "rejected"
    assert (send_record(dynamodb, stack)["state"], send_record(dynamodb, stack)["error_code"]) == (
        "REJECTED",
        "21211",
    )


def test_transient_failures_retry_then_the_third_goes_to_the_dead_letter_queue(
    stack, dynamodb, sqs, queues, monkeypatch
):
    provider = Provider(*[SendUnavailable("503")] * 3)
    service = sender(stack, queues, provider)
    delays: list[int] = []
    monkeypatch.setattr(queues, "retry_later", lambda handle, seconds: delays.append(seconds))

    for attempt in (1, 2):
        with pytest.raises(SendUnavailable):
            service.handle(request().model_dump_json(), receipt_handle="r", receive_count=attempt)
    last = service.handle(request().model_dump_json(), receipt_handle="r", receive_count=3)

    assert last == "dead_lettered" and len(provider.calls) == 3 and delays == [30, 60]
    assert send_record(dynamodb, stack)["state"] == "FAILED"
    letters = receive_batch(sqs, stack.queues["OutboundDeadLetterQueue"])
    assert [m["MessageAttributes"]["reason"]["StringValue"] for m in letters] == ["exhausted"]


def test_a_transient_failure_then_success_sends_once(stack, dynamodb, queues, monkeypatch):
    provider = Provider(SendUnavailable("429"))
    service = sender(stack, queues, provider)
    monkeypatch.setattr(queues, "retry_later", lambda handle, seconds: None)

    with pytest.raises(SendUnavailable):
        service.handle(request().model_dump_json(), receipt_handle="r", receive_count=1)
    outcome = service.handle(request().model_dump_json(), receipt_handle="r", receive_count=2)

    assert outcome == "sent"
    assert send_record(dynamodb, stack)["attempts"] == 2


def test_an_invalid_request_is_dead_lettered(stack, sqs, queues):
    outcome = sender(stack, queues, Provider()).handle(
        '{"send_key": ""}', receipt_handle="r", receive_count=1
    )

    assert outcome == "dead_lettered"
    assert len(receive_batch(sqs, stack.queues["OutboundDeadLetterQueue"])) == 1


def test_a_failed_dead_letter_send_is_finished_on_the_redelivery_and_never_resent(
    stack, dynamodb, sqs, queues, monkeypatch
):
    # Given three transient failures, and the DLQ send of the third failing once in transport
    provider = Provider(*[SendUnavailable("503 from the provider")] * 3)
    service = sender(stack, queues, provider)
    monkeypatch.setattr(queues, "retry_later", lambda handle, seconds: None)
    dlq = stack.queues["OutboundDeadLetterQueue"]
    real_send = queues.sqs.send_message
    dlq_sends: list[str] = []

    def send_message(**kwargs: Any) -> Any:
        if kwargs["QueueUrl"] == dlq:
            dlq_sends.append(kwargs["MessageBody"])
            if len(dlq_sends) == 1:
                raise EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com")
        return real_send(**kwargs)

    monkeypatch.setattr(queues.sqs, "send_message", send_message)
    body = request().model_dump_json()
    for attempt in (1, 2, 3):
        with pytest.raises((SendUnavailable, EnqueueFailed)):
            service.handle(body, receipt_handle="r", receive_count=attempt)

    # When SQS delivers the request a 4th time
    outcome = service.handle(body, receipt_handle="r", receive_count=4)

    # Then it is dead-lettered once, with its reason and the provider's error, and not sent again
    assert outcome == "dead_lettered" and len(provider.calls) == 3 and len(dlq_sends) == 2
    letters = receive_batch(sqs, dlq)
    assert len(letters) == 1
    attributes = {k: v["StringValue"] for k, v in letters[0]["MessageAttributes"].items()}
    assert (attributes["reason"], attributes["attempts"], attributes["error"]) == (
        "exhausted",
        "3",
        "503 from the provider",
    )
    assert send_record(dynamodb, stack)["state"] == "FAILED"


def test_a_transient_failure_hides_the_received_send_for_its_backoff(stack, sqs, queues):
    # Given a send request received from OutboundQueue, as the event source hands it to the sender
    sqs.send_message(QueueUrl=stack.queues["OutboundQueue"], MessageBody=request().model_dump_json())
    (message,) = receive_batch(sqs, stack.queues["OutboundQueue"])

    # When the provider is unavailable: the failure propagates (SendUnavailable, not EnqueueFailed),
    # so the visibility change on the source queue was accepted
    with pytest.raises(SendUnavailable):
        sender(stack, queues, Provider(SendUnavailable("503"))).handle(
            message["Body"], receipt_handle=message["ReceiptHandle"], receive_count=1
        )

    # Then the message stays hidden (its backoff), not redelivered at once
    assert receive_batch(sqs, stack.queues["OutboundQueue"]) == []


def test_the_largest_send_request_is_stored_with_its_raw_payload_inline(stack, dynamodb, queues):
    # Given a send request at every field's limit (why SenderFunction needs no raw-payload bucket grant)
    provider = Provider()
    largest = request(send_key="k" * 200, body="x" * 1600, purpose="auto_reply")

    # When it is sent and its outbound message stored
    outcome = sender(stack, queues, provider).handle(
        largest.model_dump_json(), receipt_handle="r", receive_count=1
    )

    # Then the stored item holds its raw payload itself: no S3 object, no pointer
    assert outcome == "sent"
    item = dynamodb.get_item(
        TableName=stack.tables["EventsTable"],
        Key={"pk": {"S": f"EVT#twilio#SM{1:032d}"}, "sk": {"S": "MESSAGE"}},
    )["Item"]
    assert "raw" in item and "raw_s3" not in item and "raw_z" not in item
