"""Store once, enqueue, ack after durable: AWS calls per webhook and every fault path, against moto."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from switchboard.services.ingest import default_service
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
SAMPLE = "ingest/twilio_inbound_sms"


def count_calls(*clients: Any) -> Counter[str]:
    """Counts every AWS API call these clients make from now on."""
    calls: Counter[str] = Counter()

    def record(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    for client in clients:
        client.meta.events.register("before-call", record)
    return calls


def jobs_in(sqs: Any, stack: Any) -> list[dict[str, Any]]:
    messages = []
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
    service = default_service()
    real_send = service.jobs.sqs.send_message
    failures = iter([ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")])

    def flaky_send(**kwargs: Any) -> Any:
        error = next(failures, None)
        if error:
            raise error
        return real_send(**kwargs)

    monkeypatch.setattr(service.jobs.sqs, "send_message", flaky_send)

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
    service = default_service()

    def failing_put(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalServerError"}}, "PutItem")

    monkeypatch.setattr(service.store.dynamodb, "put_item", failing_put)

    ingest.handler(load_event(SAMPLE), lambda_context)

    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    failures = [d for d in documents if "IngestFailures" in d]
    assert [d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for d in failures] == [[["service"]]]


def test_store_failure_answers_503_and_enqueues_nothing(stack, sqs, lambda_context, monkeypatch):
    service = default_service()

    def failing_put(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")

    monkeypatch.setattr(service.store.dynamodb, "put_item", failing_put)

    response = ingest.handler(load_event(SAMPLE), lambda_context)

    assert response["statusCode"] == 503
    assert "Traceback" not in response["body"]
    assert jobs_in(sqs, stack) == []


def test_unreadable_secrets_answer_503_not_401(stack, lambda_context, monkeypatch):
    # A Secrets Manager outage is ours, not the provider's fault: it must retry, not be told "forged".
    service = default_service()

    def failing_get(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalServiceError"}}, "GetSecretValue")

    monkeypatch.setattr(service.secrets.secrets_provider.client, "get_secret_value", failing_get)

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
