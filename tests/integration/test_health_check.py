"""The hourly canary against moto: start, ingest recognising the token, verdicts, one alert per outage."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from switchboard.canary import canary_token
from switchboard.providers.twilio import signature_headers
from switchboard.services import health as health_module
from switchboard_ops.local.apigw import http_api_event
from switchboard_ops.local.secrets import LOCAL_SECRETS
from switchboard_ops.local.sqs_events import receive_batch
from switchboard_ops.project import load_handler

health_handler = load_handler("health_check")
ingest = load_handler("ingest")
MONITORING, MONITORED = "+14155550100", "+14155550199"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.delays: list[int] = []

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(stack, monkeypatch) -> Clock:
    """Health settings from the template's resources, and a clock the test moves."""
    monkeypatch.setenv("OUTBOUND_QUEUE_URL", stack.queues["OutboundQueue"])
    monkeypatch.setenv("HEALTH_VERIFY_QUEUE_URL", stack.queues["HealthVerifyQueue"])
    monkeypatch.setenv("ALERTS_TOPIC_ARN", stack.topics["AlertsTopic"])
    monkeypatch.setenv("CANARY_FROM_NUMBER", MONITORING)
    monkeypatch.setenv("CANARY_TO_NUMBER", MONITORED)
    fake = Clock(1_795_593_600.0)
    check = health_module.default_health_check()
    check.clock = fake
    real_schedule = check.schedule_verification

    def without_waiting(body: str, delay: int) -> None:
        fake.delays.append(delay)
        real_schedule(body, 0)  # the test moves its own clock instead of waiting two minutes

    fake.delays = []
    check.schedule_verification = without_waiting
    return fake


@pytest.fixture
def alerts(stack, sqs) -> Any:
    """An SQS queue subscribed to AlertsTopic: what the e-mail subscription would receive."""
    from switchboard.dal.aws import client

    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=stack.topics["AlertsTopic"], Protocol="sqs", Endpoint=arn)

    def subjects() -> list[str]:
        return [json.loads(m["Body"])["Subject"] for m in receive_batch(sqs, url)]

    return subjects


def start_check(lambda_context: Any) -> str:
    result = health_handler.handler(
        {"source": "aws.events", "detail-type": "Scheduled Event"}, lambda_context
    )
    assert result["status"] == "sent"
    return result["token"]


def canary_webhook(token: str, lambda_context: Any) -> dict[str, Any]:
    """The monitored number's inbound webhook for the canary, as Twilio would post it."""
    sid = f"SM{token.replace('-', '')}{'0' * 14}"
    body = urlencode(
        {
            "MessageSid": sid,
            "AccountSid": "AC1",
            "From": MONITORING,
            "To": MONITORED,
            "Body": f"Switchboard health check SWB-CANARY-{token}",
            "NumMedia": "0",
        }
    ).encode()
    url = "http://127.0.0.1:3000/webhooks/twilio"
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        **signature_headers(url, body, LOCAL_SECRETS["twilio"], 0),
    }
    return ingest.handler(http_api_event(url, body, headers), lambda_context)


def run_verification(sqs: Any, stack: Any, lambda_context: Any) -> None:
    from switchboard_ops.local.sqs_events import sqs_event

    url = stack.queues["HealthVerifyQueue"]
    messages = receive_batch(sqs, url)
    assert messages, "no verification was scheduled"
    health_handler.handler(sqs_event(messages, stack.queue_arns["HealthVerifyQueue"]), lambda_context)
    sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
    )


def test_a_check_sends_a_canary_through_the_outbound_queue(stack, sqs, clock, lambda_context):
    token = start_check(lambda_context)

    sends = [json.loads(m["Body"]) for m in receive_batch(sqs, stack.queues["OutboundQueue"])]
    assert [(s["purpose"], s["sender"], s["recipient"]) for s in sends] == [("canary", MONITORING, MONITORED)]
    assert canary_token(sends[0]["body"]) == token


def test_the_verification_is_scheduled_after_the_timeout_by_an_sqs_delay(stack, sqs, clock, lambda_context):
    start_check(lambda_context)

    assert clock.delays == [120]


def test_the_sqs_delay_hides_the_verification_until_then(stack, sqs):
    from switchboard.dal.notifications import send_message

    send_message(stack.queues["HealthVerifyQueue"], '{"token": "x"}', delay_seconds=120)

    assert receive_batch(sqs, stack.queues["HealthVerifyQueue"]) == []


def test_ingest_records_the_canary_and_does_not_process_it(stack, sqs, dynamodb, clock, lambda_context):
    token = start_check(lambda_context)

    response = canary_webhook(token, lambda_context)

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["enqueued"] is False  # no classification, no roll-up
    record = health_module.default_health_check().records.get(token)
    assert record is not None and record["received_at"]


def test_a_returned_canary_passes_with_its_latency(stack, sqs, clock, lambda_context, alerts):
    token = start_check(lambda_context)
    canary_webhook(token, lambda_context)

    run_verification(sqs, stack, lambda_context)

    record = health_module.default_health_check().records.get(token)
    assert record is not None and record["status"] == "passed" and record["latency_ms"] >= 0
    assert alerts() == []  # passing the first time is no news


def test_an_outage_alerts_once_and_recovery_alerts_once(stack, sqs, clock, lambda_context, alerts):
    # Given two checks in a row whose canaries never come back
    for _ in range(2):
        start_check(lambda_context)
        clock.now += 3600
        run_verification(sqs, stack, lambda_context)

    # When the loop works again
    token = start_check(lambda_context)
    canary_webhook(token, lambda_context)
    run_verification(sqs, stack, lambda_context)

    # Then one failure alert, then one recovery notice
    assert alerts() == ["Switchboard health check FAILED", "Switchboard health check recovered"]


def test_a_redelivered_verification_does_not_judge_twice(stack, sqs, clock, lambda_context, alerts):
    token = start_check(lambda_context)
    check = health_module.default_health_check()

    assert check.verify(token) == "failed"
    assert check.verify(token) == "failed"
    assert alerts() == ["Switchboard health check FAILED"]


def test_without_canary_numbers_every_run_reports_not_configured(stack, monkeypatch, lambda_context, clock):
    health_module.default_health_check().route = None

    assert health_handler.handler({"source": "aws.events"}, lambda_context) == {"status": "not_configured"}
