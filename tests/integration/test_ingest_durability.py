"""Store once, enqueue, ack after durable: AWS calls per webhook and every fault path, against moto."""

from __future__ import annotations

import json
import socket
from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from switchboard.dal.events_table import EventsTable
from switchboard.dal.jobs_queue import JobsQueue
from switchboard.dal.secrets import WebhookSecrets
from switchboard.services.ingest import default_service
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
SAMPLE = "ingest/twilio_inbound_sms"
SAMPLE_ID = "SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8"


def events_table() -> EventsTable:
    """default_service()'s store as what it is (the service holds it as an EventStore Protocol)."""
    store = default_service().store
    assert isinstance(store, EventsTable)
    return store


def jobs_queue() -> JobsQueue:
    jobs = default_service().jobs
    assert isinstance(jobs, JobsQueue)
    return jobs


def webhook_secrets() -> WebhookSecrets:
    secrets = default_service().secrets
    assert isinstance(secrets, WebhookSecrets)
    return secrets


def count_calls(*clients: Any) -> Counter[str]:
    """Counts every AWS API call these clients make from now on."""
    calls: Counter[str] = Counter()

    def record(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    for client in clients:
        client.meta.events.register("before-call", record)
    return calls


def jobs_in(sqs: Any, stack: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=stack.queues["ProcessingQueue"], MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages"):
        messages.extend(json.loads(message["Body"]) for message in batch)
    return messages


def items_in(dynamodb: Any, stack: Any) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]


def warm(lambda_context: Any) -> None:
    """First webhook of a container: loads secrets (one cached read), like a cold Lambda."""
    ingest.handler(load_event("ingest/twilio_status_delivered"), lambda_context)


def test_a_new_webhook_costs_two_aws_calls(stack, dynamodb, sqs, lambda_context):
    # Given a warm container
    warm(lambda_context)
    calls = count_calls(dynamodb, sqs)

    # When a new webhook arrives
    response = ingest.handler(load_event(SAMPLE), lambda_context)

    # Then one conditional put and one send were made, nothing else
    assert response["statusCode"] == 200
    assert calls == Counter({"PutItem": 1, "SendMessage": 1})


def test_a_duplicate_of_an_unfinished_job_is_enqueued_again_in_two_calls(
    stack, dynamodb, sqs, lambda_context
):
    warm(lambda_context)
    ingest.handler(load_event(SAMPLE), lambda_context)
    calls = count_calls(dynamodb, sqs)

    response = ingest.handler(load_event(SAMPLE), lambda_context)

    body = json.loads(response["body"])
    assert (body["outcome"], body["enqueued"]) == ("duplicate", True)
    assert calls == Counter({"PutItem": 1, "SendMessage": 1})
    assert len(items_in(dynamodb, stack)) == 2  # the warm-up status + this message, once


def test_a_duplicate_of_a_processed_job_costs_one_call_and_enqueues_nothing(
    stack, dynamodb, sqs, lambda_context
):
    # Given a message whose job the worker already finished
    warm(lambda_context)
    ingest.handler(load_event(SAMPLE), lambda_context)
    dynamodb.update_item(
        TableName=stack.tables["EventsTable"],
        Key={"pk": {"S": "EVT#twilio#SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8"}, "sk": {"S": "MESSAGE"}},
        UpdateExpression="SET job_state = :done",
        ExpressionAttributeValues={":done": {"S": "PROCESSED"}},
    )
    calls = count_calls(dynamodb, sqs)

    # When Twilio retries it
    response = ingest.handler(load_event(SAMPLE), lambda_context)

    # Then it is acknowledged with a single failed conditional put
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["enqueued"] is False
    assert calls == Counter({"PutItem": 1})


def test_enqueue_failure_answers_503_and_the_retry_leaves_one_record_and_a_job(
    stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given SQS fails once, after the put succeeded
    real_send = jobs_queue().sqs.send_message
    failures = iter([ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")])

    def flaky_send(**kwargs: Any) -> Any:
        error = next(failures, None)
        if error:
            raise error
        return real_send(**kwargs)

    monkeypatch.setattr(jobs_queue().sqs, "send_message", flaky_send)

    # When the webhook arrives, then the provider retries it
    first = ingest.handler(load_event(SAMPLE), lambda_context)
    second = ingest.handler(load_event(SAMPLE), lambda_context)

    # Then the first is not acknowledged, the retry is, and exactly one record and one job exist
    assert first["statusCode"] == 503
    assert json.loads(first["body"])["error"] == "temporarily_unavailable"
    assert second["statusCode"] == 200
    assert len(items_in(dynamodb, stack)) == 1
    assert [job["provider_message_id"] for job in jobs_in(sqs, stack)] == [
        "SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8"
    ]


def test_ingest_failures_carry_only_the_service_dimension_of_their_alarm(
    stack, lambda_context, monkeypatch, capsys
):
    def failing_put(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalServerError"}}, "PutItem")

    monkeypatch.setattr(events_table().dynamodb, "put_item", failing_put)

    ingest.handler(load_event(SAMPLE), lambda_context)

    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    failures = [d for d in documents if "IngestFailures" in d]
    assert [d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for d in failures] == [[["service"]]]


def test_store_failure_answers_503_and_enqueues_nothing(stack, sqs, lambda_context, monkeypatch):

    def failing_put(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")

    monkeypatch.setattr(events_table().dynamodb, "put_item", failing_put)

    response = ingest.handler(load_event(SAMPLE), lambda_context)

    assert response["statusCode"] == 503
    assert "Traceback" not in response["body"]
    assert jobs_in(sqs, stack) == []


def test_unreadable_secrets_answer_503_not_401(stack, lambda_context, monkeypatch):
    # A Secrets Manager outage is ours, not the provider's fault: it must retry, not be told "forged".

    def failing_get(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalServiceError"}}, "GetSecretValue")

    monkeypatch.setattr(webhook_secrets().secrets_provider.client, "get_secret_value", failing_get)

    response = ingest.handler(load_event(SAMPLE), lambda_context)

    assert response["statusCode"] == 503


def test_an_unexpected_error_answers_500_without_a_trace(stack, lambda_context, monkeypatch):
    service = default_service()
    monkeypatch.setattr(service, "ingest", lambda request: 1 / 0)

    response = ingest.handler(load_event(SAMPLE), lambda_context)

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {"error": "internal_error", "detail": "retry later"}


@pytest.mark.parametrize("attempts", [3])
def test_repeated_deliveries_store_exactly_one_record(stack, dynamodb, lambda_context, attempts):
    for _ in range(attempts):
        assert ingest.handler(load_event(SAMPLE), lambda_context)["statusCode"] == 200

    assert len(items_in(dynamodb, stack)) == 1


def unreachable_client(service: str) -> Any:
    """A real botocore client whose endpoint is a local port nothing listens on: connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(retries={"max_attempts": 1}),  # one refused connection is enough to prove the path
    )


def failing_transport(client: Any, operation: str, error: Exception) -> None:
    """The client's next `operation` requests fail in botocore's transport, where a real timeout or
    reset is raised (before-send), so botocore's own retries see the same error a network gives."""

    def fail(**_: Any) -> None:
        raise error

    client.meta.events.register_first(f"before-send.*.{operation}", fail)


TRANSPORT_ERRORS = [
    EndpointConnectionError(endpoint_url="https://aws.example"),
    ConnectTimeoutError(endpoint_url="https://aws.example"),
    ReadTimeoutError(endpoint_url="https://aws.example"),
    ConnectionClosedError(endpoint_url="https://aws.example"),
]


def test_put_item_on_an_unreachable_endpoint_answers_503_and_enqueues_nothing(stack, sqs, lambda_context):
    # Given DynamoDB cannot be reached at all
    warm(lambda_context)
    events_table()._dynamodb = unreachable_client("dynamodb")

    # When a webhook arrives
    response = ingest.handler(load_event(SAMPLE), lambda_context)

    # Then the provider is told to retry, as for any AWS outage, and the message has no job
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "temporarily_unavailable"
    assert SAMPLE_ID not in [job["provider_message_id"] for job in jobs_in(sqs, stack)]


def test_send_message_on_an_unreachable_endpoint_answers_503(stack, lambda_context):
    # Given SQS cannot be reached at all
    warm(lambda_context)
    jobs_queue()._sqs = unreachable_client("sqs")

    # When a webhook arrives
    response = ingest.handler(load_event(SAMPLE), lambda_context)

    # Then the provider is told to retry (the stored record finds its job on that retry)
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["error"] == "temporarily_unavailable"


def test_secrets_on_an_unreachable_endpoint_answer_503(stack, lambda_context):
    # Given a cold container whose Secrets Manager cannot be reached
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    webhook_secrets()._secrets_provider = SecretsProvider(boto3_client=unreachable_client("secretsmanager"))

    # When a webhook arrives
    response = ingest.handler(load_event(SAMPLE), lambda_context)

    # Then it is our outage (503, retry), not a forged signature (401)
    assert response["statusCode"] == 503


@pytest.mark.parametrize("error", TRANSPORT_ERRORS, ids=lambda error: type(error).__name__)
def test_a_transport_failure_of_put_item_answers_503(stack, sqs, lambda_context, error):
    # Given every PutItem request dies in transport (timeouts, resets)
    warm(lambda_context)
    failing_transport(events_table().dynamodb, "PutItem", error)

    # When a webhook arrives
    response = ingest.handler(load_event(SAMPLE), lambda_context)

    # Then the provider is told to retry, and the message has no job
    assert response["statusCode"] == 503
    assert SAMPLE_ID not in [job["provider_message_id"] for job in jobs_in(sqs, stack)]


@pytest.mark.parametrize("error", TRANSPORT_ERRORS, ids=lambda error: type(error).__name__)
def test_a_transport_failure_of_send_message_answers_503(stack, lambda_context, error):
    # Given every SendMessage request dies in transport
    warm(lambda_context)
    failing_transport(jobs_queue().sqs, "SendMessage", error)

    # When a webhook arrives
    response = ingest.handler(load_event(SAMPLE), lambda_context)

    # Then the provider is told to retry
    assert response["statusCode"] == 503
