"""WorkerFunction against moto: state transitions, duplicates, takeover, backoff, dead-lettering."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from switchboard.dal.contacts import AddressKeyedTable
from switchboard.dal.dead_letters import RetryQueues
from switchboard.dal.job_records import JobRecords
from switchboard.services import worker as worker_module
from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
worker = load_handler("worker")
SMS_PK = "EVT#twilio#SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8"


def retry_queues() -> RetryQueues:
    """default_worker()'s queues as what they are (the worker holds them as a Queues Protocol)."""
    queues = worker_module.default_worker().queues
    assert isinstance(queues, RetryQueues)
    return queues


def job_records() -> JobRecords:
    records = worker_module.default_worker().records
    assert isinstance(records, JobRecords)
    return records


@pytest.fixture(autouse=True)
def fault_injection(stack, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_FAULT_INJECTION", "true")


CONTACT_PK = AddressKeyedTable("-").contact_key("+14155550123")["pk"]


# The STOP sample turned into the same number's later START (its own message id, so not a duplicate).
START_REPLY = {
    "MessageSid": "SMstart",
    "SmsMessageSid": "SMstart",
    "SmsSid": "SMstart",
    "Body": "START",
    "OptOutType": "START",
}


def ingest_sample(name: str, lambda_context: Any, **body_changes: str) -> None:
    event = load_event(f"ingest/{name}")
    if body_changes:  # re-sign a changed Twilio body
        from urllib.parse import parse_qsl, urlencode

        from switchboard.providers.twilio import signature_headers
        from switchboard_ops.local.secrets import LOCAL_SECRETS

        params = dict(parse_qsl(event["body"], keep_blank_values=True)) | body_changes
        event["body"] = urlencode(params)
        url = f"http://{event['headers']['host']}{event['rawPath']}"
        event["headers"] = event["headers"] | signature_headers(
            url, event["body"].encode(), LOCAL_SECRETS["twilio"], 0
        )
    response = ingest.handler(event, lambda_context)
    assert response["statusCode"] == 200, response["body"]


def run_worker_once(sqs: Any, stack: Any, lambda_context: Any) -> dict[str, Any]:
    """One poll of the event-source mapping: receive, invoke, delete what succeeded."""
    url = stack.queues["ProcessingQueue"]
    messages = receive_batch(sqs, url)
    if not messages:
        return {"batchItemFailures": [], "received": 0}
    response = worker.handler(sqs_event(messages, stack.queue_arns["ProcessingQueue"]), lambda_context)
    delete_succeeded(sqs, url, messages, response)
    return {**response, "received": len(messages)}


def record(dynamodb: Any, stack: Any, pk: str, sk: str = "MESSAGE") -> dict[str, Any]:
    from switchboard.dal.items import from_item

    item = dynamodb.get_item(TableName=stack.tables["EventsTable"], Key={"pk": {"S": pk}, "sk": {"S": sk}})
    return from_item(item.get("Item", {}))


def dead_letters(sqs: Any, stack: Any) -> list[dict[str, Any]]:
    return receive_batch(sqs, stack.queues["ProcessingDeadLetterQueue"])


def test_a_stored_message_is_processed_once(stack, dynamodb, sqs, lambda_context):
    # Given an inbound SMS that was ingested
    ingest_sample("twilio_inbound_sms", lambda_context)

    # When the worker polls the queue
    result = run_worker_once(sqs, stack, lambda_context)

    # Then the record is PROCESSED after one attempt, classified and rolled up
    assert result["batchItemFailures"] == [] and result["received"] == 1
    message = record(dynamodb, stack, SMS_PK)
    assert (message["job_state"], message["attempts"]) == ("PROCESSED", 1)
    assert message["intent"] == "Meeting Requested"
    contact = record(dynamodb, stack, CONTACT_PK, "PROFILE")
    assert (contact["message_count"], contact["followups_paused"], contact["status"]) == (
        1,
        True,
        "meeting_requested",
    )


def test_a_redelivered_job_of_a_processed_record_changes_nothing(stack, dynamodb, sqs, lambda_context):
    ingest_sample("twilio_inbound_sms", lambda_context)
    run_worker_once(sqs, stack, lambda_context)
    job = {
        "job": "process_event",
        "pk": SMS_PK,
        "sk": "MESSAGE",
        "provider": "twilio",
        "kind": "message",
        "provider_message_id": "SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8",
        "source": "redrive",
    }
    sqs.send_message(QueueUrl=stack.queues["ProcessingQueue"], MessageBody=json.dumps(job))

    result = run_worker_once(sqs, stack, lambda_context)

    assert result["batchItemFailures"] == []
    assert record(dynamodb, stack, SMS_PK)["attempts"] == 1
    assert record(dynamodb, stack, CONTACT_PK, "PROFILE")["message_count"] == 1


def test_a_job_stuck_in_processing_past_its_lease_is_taken_over(stack, dynamodb, sqs, lambda_context):
    # Given a worker that claimed the job and died (its lease ran out long ago)
    ingest_sample("twilio_inbound_sms", lambda_context)
    JobRecords(stack.tables["EventsTable"]).claim({"pk": SMS_PK, "sk": "MESSAGE"}, now=0, lease_seconds=60)

    # When the job comes round again
    result = run_worker_once(sqs, stack, lambda_context)

    # Then the new worker takes it over and finishes it
    assert result["batchItemFailures"] == []
    assert (record(dynamodb, stack, SMS_PK)["job_state"], record(dynamodb, stack, SMS_PK)["attempts"]) == (
        "PROCESSED",
        2,
    )


def test_a_job_under_a_live_lease_is_left_for_later(stack, dynamodb, sqs, lambda_context):
    import time

    ingest_sample("twilio_inbound_sms", lambda_context)
    JobRecords(stack.tables["EventsTable"]).claim(
        {"pk": SMS_PK, "sk": "MESSAGE"}, now=time.time(), lease_seconds=600
    )

    result = run_worker_once(sqs, stack, lambda_context)

    assert len(result["batchItemFailures"]) == 1
    assert record(dynamodb, stack, SMS_PK)["job_state"] == "PROCESSING"


def test_retries_back_off_1_2_4_minutes_and_the_fourth_attempt_succeeds(
    stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given a message whose processing fails on its first three attempts
    ingest_sample("twilio_inbound_sms", lambda_context, Body="Sounds great #fail3")
    delays: list[int] = []
    queues = worker_module.default_worker().queues
    real_retry = queues.retry_later

    def record_and_release(handle: str, seconds: int) -> None:
        delays.append(seconds)
        real_retry(handle, 0)  # the test does not wait the minutes out

    monkeypatch.setattr(queues, "retry_later", record_and_release)

    # When the worker polls four times
    failures = [len(run_worker_once(sqs, stack, lambda_context)["batchItemFailures"]) for _ in range(4)]

    # Then three attempts failed with 1, 2, 4 minute backoffs and the fourth processed it
    assert failures == [1, 1, 1, 0]
    assert delays == [60, 120, 240]
    message = record(dynamodb, stack, SMS_PK)
    assert (message["job_state"], message["attempts"]) == ("PROCESSED", 4)
    assert "last_error" not in message


def test_the_sixth_failure_goes_to_the_dead_letter_queue_at_once(
    stack, dynamodb, sqs, lambda_context, monkeypatch
):
    ingest_sample("twilio_inbound_sms", lambda_context, Body="always #fail")
    queues = worker_module.default_worker().queues
    real_retry = queues.retry_later
    monkeypatch.setattr(queues, "retry_later", lambda handle, seconds: real_retry(handle, 0))

    failures = [len(run_worker_once(sqs, stack, lambda_context)["batchItemFailures"]) for _ in range(6)]

    assert failures == [1, 1, 1, 1, 1, 0]  # the 6th is acknowledged: it was dead-lettered
    letters = dead_letters(sqs, stack)
    assert len(letters) == 1
    attributes = {k: v["StringValue"] for k, v in letters[0]["MessageAttributes"].items()}
    assert (attributes["reason"], attributes["attempts"]) == ("exhausted", "6")
    assert "injected failure" in attributes["error"]
    message = record(dynamodb, stack, SMS_PK)
    assert (message["job_state"], message["exhausted"], message["attempts"]) == ("FAILED", True, 6)


def fail_once(
    monkeypatch: Any, client: Any, method: str, error: Exception, when: Any
) -> list[dict[str, Any]]:
    """The client's real `method`, except that the first call matching `when(kwargs)` raises `error`.
    Returns the matching calls, to prove the fault was hit."""
    real = getattr(client, method)
    matched: list[dict[str, Any]] = []

    def wrapped(**kwargs: Any) -> Any:
        if when(kwargs):
            matched.append(kwargs)
            if len(matched) == 1:
                raise error
        return real(**kwargs)

    monkeypatch.setattr(client, method, wrapped)
    return matched


def exhaust_with_a_fault(stack: Any, sqs: Any, lambda_context: Any, monkeypatch: Any) -> list[int]:
    """A job that always fails, run to its 6th attempt (the fault strikes its dead-lettering) and once more:
    the redelivery. The queue's visibility is zeroed: the 360 s before a redelivery are not waited out."""
    ingest_sample("twilio_inbound_sms", lambda_context, Body="always #fail")
    sqs.set_queue_attributes(QueueUrl=stack.queues["ProcessingQueue"], Attributes={"VisibilityTimeout": "0"})
    queues = worker_module.default_worker().queues
    real_retry = queues.retry_later
    monkeypatch.setattr(queues, "retry_later", lambda handle, seconds: real_retry(handle, 0))
    return [len(run_worker_once(sqs, stack, lambda_context)["batchItemFailures"]) for _ in range(8)]


def assert_dead_lettered_once_with_its_reason(dynamodb: Any, sqs: Any, stack: Any) -> None:
    letters = dead_letters(sqs, stack)
    assert len(letters) == 1
    attributes = {k: v["StringValue"] for k, v in letters[0]["MessageAttributes"].items()}
    assert (attributes["reason"], attributes["attempts"]) == ("exhausted", "6")
    assert "injected failure on attempt 6" in attributes["error"]
    message = record(dynamodb, stack, SMS_PK)
    assert (message["job_state"], message["exhausted"], message["attempts"]) == ("FAILED", True, 6)
    assert "unfinished" not in message  # the sparse UnfinishedJobs index holds only records with it
    assert receive_batch(sqs, stack.queues["ProcessingQueue"]) == []


def test_a_failed_dead_letter_send_is_finished_on_the_redelivery_with_its_reason(
    stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given the DLQ SendMessage of the exhausting (6th) failure fails once, in transport
    dlq = stack.queues["ProcessingDeadLetterQueue"]
    sends = fail_once(
        monkeypatch,
        retry_queues().sqs,
        "send_message",
        EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com"),
        lambda call: call["QueueUrl"] == dlq,
    )

    # When the job fails six times and its message comes back
    failures = exhaust_with_a_fault(stack, sqs, lambda_context, monkeypatch)

    # Then the 6th receive stayed failed, the redelivery only finished the dead-lettering (no 7th
    # attempt), and the DLQ holds exactly one copy, with its reason and error
    assert failures == [1, 1, 1, 1, 1, 1, 0, 0]
    assert len(sends) == 2
    assert_dead_lettered_once_with_its_reason(dynamodb, sqs, stack)


def test_a_failed_exhausted_mark_is_finished_on_the_redelivery_without_a_second_copy(
    stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given the write that marks the record exhausted fails once on the exhausting (6th) failure
    marks = fail_once(
        monkeypatch,
        job_records().dynamodb,
        "update_item",
        ClientError({"Error": {"Code": "InternalServerError"}}, "UpdateItem"),
        lambda call: "exhausted = :yes" in call["UpdateExpression"],
    )

    # When the job fails six times and its message comes back
    failures = exhaust_with_a_fault(stack, sqs, lambda_context, monkeypatch)

    # Then nothing reached the DLQ before the record said so, and the redelivery sent exactly one copy
    assert failures == [1, 1, 1, 1, 1, 1, 0, 0]
    assert len(marks) == 2
    assert_dead_lettered_once_with_its_reason(dynamodb, sqs, stack)


def test_a_job_whose_record_is_gone_is_dead_lettered_on_the_first_failure(stack, sqs, lambda_context):
    job = {
        "job": "process_event",
        "pk": "EVT#twilio#SMgone",
        "sk": "MESSAGE",
        "provider": "twilio",
        "kind": "message",
        "provider_message_id": "SMgone",
    }
    sqs.send_message(QueueUrl=stack.queues["ProcessingQueue"], MessageBody=json.dumps(job))

    result = run_worker_once(sqs, stack, lambda_context)

    assert result["batchItemFailures"] == []
    assert [m["MessageAttributes"]["reason"]["StringValue"] for m in dead_letters(sqs, stack)] == [
        "permanent"
    ]


def test_a_malformed_job_is_dead_lettered_on_the_first_failure(stack, sqs, lambda_context):
    sqs.send_message(QueueUrl=stack.queues["ProcessingQueue"], MessageBody="{not json")

    run_worker_once(sqs, stack, lambda_context)

    assert [m["Body"] for m in dead_letters(sqs, stack)] == ["{not json"]


def test_stop_suppresses_the_number_and_start_lifts_it(stack, dynamodb, sqs, lambda_context):
    ingest_sample("twilio_inbound_stop", lambda_context)
    run_worker_once(sqs, stack, lambda_context)
    records = JobRecords(stack.tables["EventsTable"])
    assert records.is_suppressed("sms", "+14155550124")

    ingest_sample("twilio_inbound_stop", lambda_context, **START_REPLY)
    run_worker_once(sqs, stack, lambda_context)

    assert not records.is_suppressed("sms", "+14155550124")


def test_a_late_sent_callback_never_overwrites_delivered(stack, dynamodb, sqs, lambda_context):
    # Given "delivered" was processed first
    ingest_sample("twilio_status_delivered", lambda_context)
    run_worker_once(sqs, stack, lambda_context)

    # When a late "sent" for the same message arrives
    ingest_sample("twilio_status_delivered", lambda_context, MessageStatus="sent", SmsStatus="sent")
    run_worker_once(sqs, stack, lambda_context)

    # Then delivery stays "delivered" and both raw status events are kept
    delivery = record(dynamodb, stack, "EVT#twilio#SMa1b2c3d4e5f60718293a4b5c6d7e8f90", "DELIVERY")
    assert delivery["delivery_status"] == "delivered"
    assert record(dynamodb, stack, "EVT#twilio#SMa1b2c3d4e5f60718293a4b5c6d7e8f90", "STATUS#sent")


def test_a_whole_batch_of_failures_is_a_partial_response_not_an_exception(stack, sqs, lambda_context):
    for sid in ("SMf1", "SMf2"):
        ingest_sample("twilio_inbound_sms", lambda_context, MessageSid=sid, Body="#fail")

    result = run_worker_once(sqs, stack, lambda_context)

    assert len(result["batchItemFailures"]) == 2


def test_redrive_brings_an_exhausted_job_back_to_processed(stack, dynamodb, sqs, lambda_context, monkeypatch):
    # Given a job exhausted into the DLQ, whose cause is then fixed (fault injection switched off)
    from switchboard.dal.dead_letters import DeadLetterQueue
    from switchboard.dal.job_records import scan_job_states
    from switchboard.services.job_stats import job_stats

    ingest_sample("twilio_inbound_sms", lambda_context, Body="Sounds great #fail")
    queues = worker_module.default_worker().queues
    real_retry = queues.retry_later
    monkeypatch.setattr(queues, "retry_later", lambda handle, seconds: real_retry(handle, 0))
    for _ in range(6):
        run_worker_once(sqs, stack, lambda_context)
    dlq = DeadLetterQueue(stack.queues["ProcessingDeadLetterQueue"], stack.queues["ProcessingQueue"])
    listed = dlq.list()
    assert [letter.attributes["reason"] for letter in listed] == ["exhausted"]
    assert len(dlq.list()) == 1  # listing leaves it in place
    monkeypatch.setattr(worker_module.default_worker(), "fault_injection", False)

    # When an operator redrives it and the worker polls
    moved = dlq.redrive({listed[0].message_id})
    run_worker_once(sqs, stack, lambda_context)

    # Then it is PROCESSED, counted as recovered, and the DLQ is empty
    assert moved == [listed[0].message_id]
    message = record(dynamodb, stack, SMS_PK)
    assert (message["job_state"], message["recovered"], message["exhausted"]) == ("PROCESSED", True, False)
    assert dlq.list() == []
    stats = job_stats(scan_job_states(stack.tables["EventsTable"]))
    assert (stats["processed"], stats["recovered"], stats["exhausted"]) == (1, 1, 0)


def test_redrive_all_uses_the_fallback_where_sqs_has_no_move_task(stack, sqs, lambda_context):
    from switchboard.dal.dead_letters import DeadLetterQueue

    for index in range(3):
        sqs.send_message(QueueUrl=stack.queues["ProcessingDeadLetterQueue"], MessageBody=f"job-{index}")
    dlq = DeadLetterQueue(stack.queues["ProcessingDeadLetterQueue"], stack.queues["ProcessingQueue"])

    moved = dlq.redrive()

    assert len(moved) == 3 and dlq.list() == []
    assert sorted(m["Body"] for m in receive_batch(sqs, stack.queues["ProcessingQueue"])) == [
        "job-0",
        "job-1",
        "job-2",
    ]


# --- auto-send and the suppression list ---------------------------------------------------------------


def ingest_interested_reply(lambda_context: Any) -> str:
    """An inbound "interested" SMS from the number the STOP sample comes from; its record's pk."""
    sid = "SMinterested0000000000000000000001"
    ingest_sample(
        "twilio_inbound_stop",
        lambda_context,
        MessageSid=sid,
        SmsMessageSid=sid,
        SmsSid=sid,
        Body="Yes, I'm interested, tell me more",
        OptOutType="",
    )
    return f"EVT#twilio#{sid}"


def test_an_interested_reply_is_auto_sent_when_the_number_is_not_suppressed(
    stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given auto-send on for Twilio and an interested reply from a number that never opted out
    monkeypatch.setenv("AUTO_SEND_PROVIDERS", "twilio")
    pk = ingest_interested_reply(lambda_context)

    # When the worker processes it (and looks the number up in the suppression list)
    run_worker_once(sqs, stack, lambda_context)

    # Then its draft is approved by policy (and enqueued for the sender)
    draft = record(dynamodb, stack, pk, "DRAFT")
    assert (draft["status"], draft["approved_by"]) == ("approved", "auto")


def test_an_interested_reply_from_an_opted_out_number_is_drafted_for_review_only(
    stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given auto-send on for Twilio and a number that texted STOP earlier
    monkeypatch.setenv("AUTO_SEND_PROVIDERS", "twilio")
    ingest_sample("twilio_inbound_stop", lambda_context)
    run_worker_once(sqs, stack, lambda_context)

    # When the same number replies "interested" and the worker processes it
    pk = ingest_interested_reply(lambda_context)
    run_worker_once(sqs, stack, lambda_context)

    # Then the suppression list keeps the draft from being sent: it waits for review, held for that reason
    draft = record(dynamodb, stack, pk, "DRAFT")
    assert (draft["status"], draft.get("auto_send_hold")) == ("pending_review", "suppressed")
