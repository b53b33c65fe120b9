"""Calendar samples through IngestFunction: stored once per (calendar, event id, version), one job each."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.services.ingest import default_service
from switchboard_ops.local.apigw import http_api_event
from switchboard_ops.local.provision import StackResources
from switchboard_ops.local.signing import signed_headers
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
EVENTS_NOW = 1795593600  # scripts/make_events.py signs every sample at this instant


def handle(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
    default_service().clock = lambda: EVENTS_NOW
    return ingest.handler(event, lambda_context)


def stored(dynamodb: Any, stack: StackResources) -> list[dict[str, Any]]:
    items = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    return [{key: next(iter(value.values())) for key, value in item.items()} for item in items]


def jobs(sqs: Any, stack: StackResources) -> list[dict[str, Any]]:
    response = sqs.receive_message(QueueUrl=stack.queues["ProcessingQueue"], MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


@pytest.mark.parametrize(
    ("name", "pk"),
    [
        ("calcom_booking_created", "EVT#calcom#9f3c2a7e-4b1d-4e8a-a6c5-2d7f0b9e1c34"),
        ("calendly_invitee_created", "EVT#calendly#7c1e9b2a4d"),
        ("calendar_event_confirmed", "EVT#calendar#clinic-main:evt-20261201-0900"),
    ],
)
def test_a_calendar_sample_is_stored_under_its_version_with_a_calendar_job(
    name, pk, stack, dynamodb, sqs, lambda_context
):
    # When the sample is delivered twice (providers retry)
    first = handle(load_event(f"ingest/{name}"), lambda_context)
    second = handle(load_event(f"ingest/{name}"), lambda_context)

    # Then one item is stored, keyed by the event and its version, and its job says "calendar"
    assert json.loads(first["body"])["outcome"] == "stored"
    assert json.loads(second["body"])["outcome"] == "duplicate"
    [item] = stored(dynamodb, stack)
    assert item["pk"] == pk and item["sk"].startswith("CAL#") and item["kind"] == "calendar"
    assert {job["kind"] for job in jobs(sqs, stack)} == {"calendar"}


def test_a_booking_and_its_cancellation_are_two_versions_of_one_event(stack, dynamodb, lambda_context):
    handle(load_event("ingest/calcom_booking_created"), lambda_context)
    handle(load_event("ingest/calcom_booking_cancelled"), lambda_context)

    items = sorted(stored(dynamodb, stack), key=lambda item: item["sk"])
    assert len({item["pk"] for item in items}) == 1
    assert [item["status"] for item in items] == ["confirmed", "cancelled"]


def test_a_signed_booking_without_a_uid_is_a_400_and_nothing_is_stored(stack, dynamodb, sqs, lambda_context):
    # Given a correctly signed Cal.com body that lacks the booking uid
    url = "http://127.0.0.1:3000/webhooks/calcom"
    body = json.dumps({"triggerEvent": "BOOKING_CREATED", "createdAt": "2026-11-25T08:00:00Z", "payload": {}})
    headers = signed_headers("calcom", url, body.encode(), "application/json", now=EVENTS_NOW)

    # When it is delivered
    response = handle(http_api_event(url, body.encode(), headers, now=EVENTS_NOW), lambda_context)

    # Then a clear 400, nothing stored, nothing queued
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "malformed_payload"
    assert stored(dynamodb, stack) == [] and jobs(sqs, stack) == []
