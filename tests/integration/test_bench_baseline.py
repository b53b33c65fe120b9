"""bench/ingest's own pieces work: the Powertools-style baseline handler, the AWS call counter and the
signed webhook factory. Functional checks only — no timings are asserted anywhere."""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from switchboard_ops.project import ROOT

if str(ROOT) not in sys.path:  # bench/ sits beside tests/, outside the installed packages
    sys.path.insert(0, str(ROOT))

from bench.ingest import common  # noqa: E402
from bench.ingest.webhooks import message_sid, twilio_webhook  # noqa: E402


@pytest.fixture
def baseline(stack, monkeypatch: pytest.MonkeyPatch) -> common.BaselineResources:
    resources = common.provision_baseline(
        boto3.Session(region_name="us-east-1"), stack.secrets["WebhookSecrets"]
    )
    for key, value in resources.environment().items():
        monkeypatch.setenv(key, value)
    return resources


@pytest.fixture
def baseline_handler(baseline) -> Any:
    return common.load_baseline_handler().handler


def messages(dynamodb: Any, baseline: common.BaselineResources) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=baseline.messages_table)["Items"]


def queued(sqs: Any, baseline: common.BaselineResources) -> list[dict[str, Any]]:
    response = sqs.receive_message(QueueUrl=baseline.queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def test_the_baseline_stores_and_enqueues_a_new_webhook(
    baseline, baseline_handler, dynamodb, sqs, lambda_context
):
    event = twilio_webhook()
    sid = message_sid(event)

    response = baseline_handler(event, lambda_context)

    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["provider_message_id"] == sid
    assert [item["MessageSid"]["S"] for item in messages(dynamodb, baseline)] == [sid]
    assert [job["provider_message_id"] for job in queued(sqs, baseline)] == [sid]
    records = dynamodb.scan(TableName=baseline.idempotency_table)["Items"]
    assert [record["status"]["S"] for record in records] == ["COMPLETED"]


def test_the_baseline_does_not_reprocess_a_duplicate(
    baseline, baseline_handler, dynamodb, sqs, lambda_context
):
    event = twilio_webhook()
    first = baseline_handler(copy.deepcopy(event), lambda_context)

    with common.CallCounter() as counter:
        again = baseline_handler(copy.deepcopy(event), lambda_context)

    assert again["statusCode"] == 200
    assert json.loads(again["body"]) == json.loads(first["body"])
    assert counter.calls == ["dynamodb.PutItem"]  # Powertools' conditional put fails; nothing else runs
    assert len(messages(dynamodb, baseline)) == 1
    assert len(queued(sqs, baseline)) == 1


def test_a_new_webhook_costs_the_baseline_four_calls_once_its_secret_is_cached(
    baseline, baseline_handler, lambda_context
):
    with common.CallCounter() as first:
        baseline_handler(twilio_webhook(), lambda_context)
    with common.CallCounter() as second:
        baseline_handler(twilio_webhook(), lambda_context)

    assert first.by_operation() == {
        "dynamodb.PutItem": 2,
        "dynamodb.UpdateItem": 1,
        "secretsmanager.GetSecretValue": 1,
        "sqs.SendMessage": 1,
    }
    # Idempotency record INPROGRESS, the message, the job, idempotency record COMPLETED.
    assert second.calls == ["dynamodb.PutItem", "dynamodb.PutItem", "sqs.SendMessage", "dynamodb.UpdateItem"]


def test_the_baseline_verifies_the_signature(baseline, baseline_handler, dynamodb, lambda_context):
    event = twilio_webhook()
    event["body"] = event["body"].replace("Tuesday", "Friday")

    response = baseline_handler(event, lambda_context)

    assert response["statusCode"] == 401
    assert messages(dynamodb, baseline) == []


def test_the_call_counter_counts_exactly_the_calls_made(stack, dynamodb, sqs):
    dynamodb.list_tables()  # before: not counted
    with common.CallCounter() as outer:
        dynamodb.list_tables()
        with common.CallCounter() as inner:
            sqs.get_queue_url(QueueName=stack.queues["ProcessingQueue"].rsplit("/", 1)[-1])
            with pytest.raises(ClientError):  # a failed call is still a call
                dynamodb.get_item(TableName="no-such-table", Key={"pk": {"S": "x"}})
        boto3.client("sqs", region_name="us-east-1").list_queues()  # a client made inside is counted too
    sqs.list_queues()  # after: not counted

    assert inner.calls == ["sqs.GetQueueUrl", "dynamodb.GetItem"]
    assert outer.calls == ["dynamodb.ListTables", "sqs.GetQueueUrl", "dynamodb.GetItem", "sqs.ListQueues"]
    assert outer.by_operation() == {
        "dynamodb.GetItem": 1,
        "dynamodb.ListTables": 1,
        "sqs.GetQueueUrl": 1,
        "sqs.ListQueues": 1,
    }


def test_bench_webhooks_are_fresh_signed_messages_our_handler_accepts(stack, lambda_context):
    ingest = common.load_our_handler()
    event = twilio_webhook()
    other = twilio_webhook()

    stored = ingest.handler(copy.deepcopy(event), lambda_context)
    repeated = ingest.handler(copy.deepcopy(event), lambda_context)

    assert message_sid(event) != message_sid(other)
    assert stored["statusCode"] == 200, stored["body"]
    assert json.loads(stored["body"])["provider_message_id"] == message_sid(event)
    assert json.loads(stored["body"])["outcome"] == "stored"
    assert json.loads(repeated["body"])["outcome"] == "duplicate"


def test_the_payload_figure_measures_the_old_item_over_the_limit_and_ours_under(monkeypatch):
    # Given the bench's own environment (its own moto, fresh handler wiring)
    from bench.ingest import payload

    for key, value in common.BENCH_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    for name in ("TABLE_NAME", "PROCESSING_QUEUE_URL", "PROCESSING_DLQ_URL", "RAW_PAYLOAD_BUCKET"):
        monkeypatch.delenv(name, raising=False)  # the bench sets them: put back afterwards
    for name in ("WEBHOOK_SECRETS_NAME", "BASELINE_MESSAGES_TABLE", "BASELINE_IDEMPOTENCY_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("BASELINE_QUEUE_URL", raising=False)

    # When the payload figure measures one webhook of each kind
    measured = payload.measure(1)

    # Then the 255 KiB webhook's old item passes DynamoDB's limit, ours does not, and only it calls S3
    sizes, results = measured["sizes"], measured["results"]
    assert sizes["before"] > 409_600 > sizes["oversized"]
    assert results["normal"]["calls"] == [{"dynamodb.PutItem": 1, "sqs.SendMessage": 1}]
    assert results["oversized"]["calls"] == [{"dynamodb.PutItem": 1, "s3.PutObject": 1, "sqs.SendMessage": 1}]
    assert results["compressible"]["calls"] == [{"dynamodb.PutItem": 1, "sqs.SendMessage": 1}]


def test_mark_processed_finishes_our_stored_job_as_the_worker_would(stack, dynamodb, lambda_context):
    # Given a webhook our handler stored (its job RECEIVED)
    event = twilio_webhook()
    common.load_our_handler().handler(copy.deepcopy(event), lambda_context)

    # When the calls figure marks it processed
    marked = common.mark_processed(dynamodb, stack.tables["EventsTable"], {message_sid(event)})

    # Then that one item's job state is PROCESSED
    items = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    assert marked == 1
    assert [item["job_state"]["S"] for item in items] == ["PROCESSED"]
