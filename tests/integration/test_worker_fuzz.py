"""Whatever a provider may send and ingest stores, the worker finishes: a signed webhook with any field
at any length or code point is either refused at the door (4xx) or processed, never retried to the DLQ."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signed_fuzz import field_values, payload_names, signed_mutation

from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event
from switchboard_ops.project import load_handler

ingest = load_handler("ingest")
worker = load_handler("worker")


def job_states(dynamodb: Any, stack: Any) -> list[str]:
    items = dynamodb.scan(TableName=stack.tables["EventsTable"], ProjectionExpression="job_state")["Items"]
    return [item["job_state"]["S"] for item in items if "job_state" in item]


@pytest.mark.parametrize("sample_name", payload_names())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=field_values)
def test_every_webhook_ingest_stores_is_processed(
    stack, dynamodb, sqs, lambda_context, sample_name, data, value
):
    # Given a sample webhook with one field (or key) replaced and signed, which ingest acknowledged
    response = ingest.handler(signed_mutation(sample_name, data, value), lambda_context)
    if response["statusCode"] != 200:
        return  # refused at the door: the ingest fuzz test checks that nothing was stored

    # When the worker polls the processing queue as the event source mapping does
    url = stack.queues["ProcessingQueue"]
    messages = receive_batch(sqs, url)  # none when the event needs no job (a booking cancelled unseen)
    result: dict[str, Any] = {"batchItemFailures": []}
    if messages:
        result = worker.handler(sqs_event(messages, stack.queue_arns["ProcessingQueue"]), lambda_context)
        delete_succeeded(sqs, url, messages, result)

    # Then no job failed and none went to the dead-letter queue: each record is finished
    assert result["batchItemFailures"] == []
    assert receive_batch(sqs, stack.queues["ProcessingDeadLetterQueue"]) == []
    assert set(job_states(dynamodb, stack)) <= {"PROCESSED"}
