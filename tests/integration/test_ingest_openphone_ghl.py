"""OpenPhone and GHL sample events through IngestFunction: what is stored, and replays refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.services.ingest import default_service
from switchboard_ops.local.provision import StackResources
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
EVENTS_NOW = 1795593600  # scripts/make_events.py signs every sample at this instant


def handle(name: str, lambda_context: Any, *, now: float = EVENTS_NOW) -> dict[str, Any]:
    default_service().clock = lambda: now
    return ingest.handler(load_event(f"ingest/{name}"), lambda_context)


def stored_item(dynamodb: Any, stack: StackResources) -> dict[str, Any]:
    items = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    assert len(items) == 1
    return {key: next(iter(value.values())) for key, value in items[0].items()}


def queued_ids(sqs: Any, stack: StackResources) -> list[str]:
    response = sqs.receive_message(QueueUrl=stack.queues["ProcessingQueue"], MaxNumberOfMessages=10)
    return [json.loads(message["Body"])["provider_message_id"] for message in response.get("Messages", [])]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "openphone_message_received",
            {
                "sk": "MESSAGE",
                "provider_message_id": "AC8f2b6d1e4a9c47b0a3e5d7c9f1b2a4e6",
                "direction": "inbound",
            },
        ),
        (
            "openphone_message_received_v2",
            {"sk": "MESSAGE", "provider_message_id": "AC3d9e1f7a2b5c48e6a0d4b8f2c6e1a9d3", "channel": "mms"},
        ),
        (
            "openphone_message_delivered",
            {"sk": "STATUS#delivered", "provider_message_id": "ACe1b3d5f7a9c24e6b8d0f2a4c6e8b1d3f"},
        ),
        (
            "ghl_inbound_sms",
            {"sk": "MESSAGE", "provider_message_id": "tKq4Wz9hB2mXc7RfLp3e", "direction": "inbound"},
        ),
        (
            "ghl_outbound_sms",
            {"sk": "MESSAGE", "provider_message_id": "pR7sN2vXc4LmQ8wZt1Ky", "direction": "outbound"},
        ),
    ],
)
def test_sample_is_stored_under_the_provider_message_id_and_enqueued(
    name, expected, stack, dynamodb, sqs, lambda_context
):
    # Given a signed sample event and the clock at its signing instant
    # When IngestFunction handles it
    response = handle(name, lambda_context)

    # Then one record keyed by the provider's message id is stored and one job queued
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["outcome"] == "stored"
    item = stored_item(dynamodb, stack)
    assert {key: item[key] for key in expected} == expected
    assert queued_ids(sqs, stack) == [expected["provider_message_id"]]


@pytest.mark.parametrize(
    "name", ["openphone_message_received", "openphone_message_received_v2", "ghl_inbound_sms"]
)
def test_sample_replayed_an_hour_later_is_refused(name, stack, dynamodb, lambda_context):
    # Given a sample event whose signed timestamp is an hour old
    # When IngestFunction handles it
    response = handle(name, lambda_context, now=EVENTS_NOW + 3600)

    # Then it answers 401 and stores nothing
    assert response["statusCode"] == 401, response["body"]
    assert json.loads(response["body"])["error"] == "invalid_signature"
    assert dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"] == []
