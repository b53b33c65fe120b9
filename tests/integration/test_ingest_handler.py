"""IngestFunction through its handler, against moto built from template.yaml."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard_ops.local.provision import StackResources
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")


def queued_jobs(sqs: Any, stack: StackResources) -> list[dict[str, Any]]:
    response = sqs.receive_message(QueueUrl=stack.queues["ProcessingQueue"], MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def stored_items(dynamodb: Any, stack: StackResources) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]


def test_twilio_inbound_sms_is_stored_and_enqueued(stack, dynamodb, sqs, lambda_context):
    # Given a signed Twilio inbound SMS webhook
    event = load_event("ingest/twilio_inbound_sms")

    # When the handler receives it
    response = ingest.handler(event, lambda_context)

    # Then it answers 200 with one stored record and one job
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["outcome"] == "stored"
    items = stored_items(dynamodb, stack)
    assert len(items) == 1
    assert items[0]["sender"] == {"S": "+14155550123"}
    jobs = queued_jobs(sqs, stack)
    assert [job["provider_message_id"] for job in jobs] == ["SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8"]


@pytest.mark.parametrize("name", ["ingest/twilio_inbound_sms"])
def test_a_tampered_body_is_rejected_with_401_and_nothing_stored(stack, dynamodb, lambda_context, name):
    event = load_event(name)
    event["body"] = event["body"].replace("Tuesday", "Friday")

    response = ingest.handler(event, lambda_context)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "invalid_signature"
    assert stored_items(dynamodb, stack) == []
