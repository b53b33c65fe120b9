"""The daily digest against moto: each number from where it is stored (docs/adr/0016), published to
AlertsTopic by ReconcileFunction's daily schedule, with the cost trend the cost alarm reads."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from switchboard.dal.ai_usage import usage_item
from switchboard.dal.aws import client
from switchboard.dal.health_records import HealthRecords
from switchboard.dal.items import to_attribute_values
from switchboard.dal.reconcile_records import ReconcileRecords
from switchboard.models.ai_usage import AiCall
from switchboard.services.digest import build_digest, table_sources
from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
worker = load_handler("worker")
DAY = "2026-11-25"
NOON = datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp()


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def digest_of(stack: Any, day: str) -> dict[str, Any]:
    return build_digest(table_sources(stack.tables["EventsTable"]), day)


def ai_call(stack: Any, cost: float, at: float, outcome: str = "ok") -> None:
    call = AiCall("draft.generate", "openai", "gpt-4o-mini", 100, 20, 300, cost, True, outcome)
    item = usage_item(call, job_pk=f"EVT#twilio#SM{at}", index=0, now=at)
    client("dynamodb").put_item(TableName=stack.tables["EventsTable"], Item=to_attribute_values(item))


def test_the_days_webhooks_jobs_and_deliveries_come_from_the_stored_records(stack, sqs, lambda_context):
    # Given two inbound messages and a delivered status today, all processed by the worker
    for name in ("twilio_inbound_sms", "twilio_inbound_mms", "twilio_status_delivered"):
        assert ingest.handler(load_event(f"ingest/{name}"), lambda_context)["statusCode"] == 200
    url = stack.queues["ProcessingQueue"]
    messages = receive_batch(sqs, url)
    delete_succeeded(
        sqs,
        url,
        messages,
        worker.handler(sqs_event(messages, stack.queue_arns["ProcessingQueue"]), lambda_context),
    )

    # When today's digest is built
    digest = digest_of(stack, today())

    # Then it counts them by provider and kind, their jobs as processed, and the delivery
    assert digest["webhooks"]["stored_by_provider"] == {"twilio": {"message": 2, "status": 1}}
    assert digest["jobs"] == {"total": 3, "processed": 3, "retried": 0, "exhausted": 0, "pending": 0}
    assert digest["deliveries"] == {"delivered": 1, "failed": 0, "in_flight": 0, "delivery_rate": 100.0}
    assert digest_of(stack, "2026-01-01")["webhooks"]["stored"] == 0  # another day: none of them


def test_canary_reconciliation_and_ai_cost_come_from_their_records(stack):
    # Given the day's canary checks (3 passed, 1 failed), a reconciliation run, and AI calls
    health = HealthRecords(stack.tables["EventsTable"])
    for index, status in enumerate(["passed", "passed", "failed", "passed"]):
        token = f"{int(NOON) + index * 3600:010d}-{index:08x}"
        health.start(token, now=NOON + index * 3600, retention_seconds=3600)
        health.finish(
            token, status, now=NOON + index * 3600 + 120, latency_ms=900 if status == "passed" else None
        )
    stats = {
        "new_messages": 3,
        "statuses_backfilled": 1,
        "inbound_listed": 200,
        "inbound_missing": 3,
        "errors": 0,
    }
    ReconcileRecords(stack.tables["EventsTable"]).put_run(
        {
            "sk": f"RUN#{DAY}T02:00:00.000000Z",
            "started": f"{DAY}T02:00:00.000000Z",
            "stats": {"twilio": stats},
        }
    )
    ai_call(stack, 0.30, NOON)
    ai_call(stack, 0.10, NOON + 60, outcome="error")
    for days_before in range(1, 8):  # 0.10 a day the week before
        ai_call(stack, 0.10, NOON - days_before * 86400)

    # When the day's digest is built
    digest = digest_of(stack, DAY)

    # Then each number is the records'
    assert digest["canary"] == {"total": 4, "passed": 3, "failed": 1, "success_rate": 75.0}
    assert digest["reconciliation"] == {
        "runs": 1,
        "backfilled": 3,
        "statuses_backfilled": 1,
        "errors": 0,
        "capture_rate": 98.5,
    }
    assert (digest["ai"]["calls"], digest["ai"]["failures"], digest["ai"]["cost_usd"]) == (2, 1, 0.4)
    assert (digest["ai"]["success_rate"], digest["ai"]["average_latency_ms"]) == (50.0, 300)
    assert digest["ai"]["cost_vs_7_day_average_percent"] == 400.0


def sent_message(stack: Any, message_id: str) -> None:
    """An outbound message as the sender stores it after the provider accepted it."""
    from switchboard.dal.events_table import EventsTable
    from switchboard.models import Channel, Direction, Message

    message = Message(
        provider="twilio",
        provider_message_id=message_id,
        channel=Channel.SMS,
        direction=Direction.OUTBOUND,
        sender="+14155550100",
        recipient="+14155550123",
        body="See you at 3",
        status="queued",
        occurred_at=datetime.fromtimestamp(NOON, UTC),
        event_type="message.sent",
        raw={},
    )
    EventsTable(stack.tables["EventsTable"]).store_if_new(
        message, source="sender", received_at=NOON, job=False
    )


def test_sends_come_from_the_table_and_opt_outs_from_cloudwatch(stack):
    # Given four sends stored that day, and CloudWatch counting one opt-out
    for index in range(4):
        sent_message(stack, f"SMsent{index}")
    client("cloudwatch").put_metric_data(
        Namespace="Switchboard",
        MetricData=[
            {
                "MetricName": "OptOuts",
                "Dimensions": [{"Name": "service", "Value": "switchboard"}],
                "Timestamp": datetime.fromtimestamp(NOON, UTC),
                "Value": 1,
                "Unit": "Count",
            }
        ],
    )

    digest = digest_of(stack, DAY)

    assert digest["sends"] == {
        "sent_by_provider": {"twilio": 4},
        "sent": 4,
        "opt_outs": 1,
        "opt_out_rate": 25.0,
    }
    assert digest["webhooks"]["stored"] == 0  # a send is not a webhook


def test_numbers_only_cloudwatch_has_come_from_it_and_are_null_without_data(stack):
    # Given CloudWatch holds 3 duplicate Twilio webhooks for the day, and nothing else
    client("cloudwatch").put_metric_data(
        Namespace="Switchboard",
        MetricData=[
            {
                "MetricName": "DuplicateWebhooks",
                "Dimensions": [
                    {"Name": "provider", "Value": "twilio"},
                    {"Name": "service", "Value": "switchboard"},
                ],
                "Timestamp": datetime.fromtimestamp(NOON, UTC),
                "Value": 3,
                "Unit": "Count",
            }
        ],
    )

    digest = digest_of(stack, DAY)

    assert digest["webhooks"]["duplicate_webhooks"] == {"twilio": 3}
    assert digest["webhooks"]["signature_rejected"] is None  # no data, not "zero"


def test_the_scheduled_digest_publishes_the_day_to_alerts_topic_and_emits_the_cost_trend(
    stack, sqs, reconcile, lambda_context, capsys
):
    # Given an inbox subscribed to AlertsTopic, and AI cost 4 x its weekly average on the day
    inbox = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=stack.topics["AlertsTopic"], Protocol="sqs", Endpoint=arn)
    ai_call(stack, 0.40, NOON)
    for days_before in range(1, 8):
        ai_call(stack, 0.10, NOON - days_before * 86400)
    capsys.readouterr()

    # When ReconcileFunction runs the digest's sample event
    result = reconcile.handler(load_event("reconcile/daily_digest"), lambda_context)

    # Then the day's digest reaches the inbox, and the ratio the cost alarm watches is emitted
    assert result["date"] == DAY
    [message] = [json.loads(m["Body"]) for m in receive_batch(sqs, inbox)]
    assert message["Subject"] == f"Switchboard daily digest {DAY}"
    assert "cost vs 7 day average percent: 400.0" in message["Message"]
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"AICostVsWeekAverage"' in line
    ]
    assert [line["AICostVsWeekAverage"] for line in emitted] == [[400.0]]  # Powertools writes a list


def test_a_malformed_date_is_refused_before_anything_is_read(stack, reconcile, lambda_context):
    with pytest.raises(ValueError, match="Invalid isoformat"):
        reconcile.handler({"action": "digest", "date": "yesterday"}, lambda_context)


def test_without_a_date_the_digest_is_yesterdays(stack, reconcile, lambda_context):
    result = reconcile.handler({"action": "digest"}, lambda_context)

    assert result["date"] == datetime.fromtimestamp(time.time() - 86400, UTC).date().isoformat()
