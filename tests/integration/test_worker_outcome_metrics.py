"""The worker's counts behind the delivery-rate and opt-out-rate alarms: each message's first final
status (MessagesDelivered / MessagesUndelivered) and each recorded opt-out (OptOuts), in EMF."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
worker = load_handler("worker")


@pytest.fixture(autouse=True)
def fresh_worker(stack):
    from switchboard.function_settings import worker_settings

    worker_settings.cache_clear()
    yield
    worker_settings.cache_clear()


def deliver(name: str, stack: Any, sqs: Any, lambda_context: Any, **changes: str) -> None:
    """Ingest a sample webhook (re-signed when changed), then one worker poll."""
    event = load_event(f"ingest/{name}")
    if changes:
        from urllib.parse import parse_qsl, urlencode

        from switchboard.providers.twilio import signature_headers
        from switchboard_ops.local.secrets import LOCAL_SECRETS

        event["body"] = urlencode(dict(parse_qsl(event["body"], keep_blank_values=True)) | changes)
        url = f"http://{event['headers']['host']}{event['rawPath']}"
        event["headers"] |= signature_headers(url, event["body"].encode(), LOCAL_SECRETS["twilio"], 0)
    assert ingest.handler(event, lambda_context)["statusCode"] == 200
    url = stack.queues["ProcessingQueue"]
    messages = receive_batch(sqs, url)
    response = worker.handler(sqs_event(messages, stack.queue_arns["ProcessingQueue"]), lambda_context)
    delete_succeeded(sqs, url, messages, response)


def counted(output: str, name: str) -> float:
    total = 0.0
    for line in output.splitlines():
        if '"_aws"' in line and f'"{name}"' in line:
            value = json.loads(line)[name]
            total += sum(value) if isinstance(value, list) else value
    return total


def test_a_delivered_callback_counts_one_delivery_and_a_repeat_counts_nothing(
    stack, sqs, lambda_context, capsys
):
    # Given a message's "delivered" callback, then a late "sent" and a second "delivered" for it
    deliver("twilio_status_delivered", stack, sqs, lambda_context)
    deliver("twilio_status_delivered", stack, sqs, lambda_context, MessageStatus="sent", SmsStatus="sent")

    output = capsys.readouterr().out

    # Then one delivery is counted, no failure
    assert counted(output, "MessagesDelivered") == 1
    assert counted(output, "MessagesUndelivered") == 0


def test_an_undelivered_callback_counts_a_failed_delivery(stack, sqs, lambda_context, capsys):
    deliver("twilio_status_undelivered", stack, sqs, lambda_context)

    output = capsys.readouterr().out

    assert (counted(output, "MessagesUndelivered"), counted(output, "MessagesDelivered")) == (1, 0)


def test_a_stop_counts_an_opt_out_and_a_start_does_not(stack, sqs, lambda_context, capsys):
    deliver("twilio_inbound_stop", stack, sqs, lambda_context)
    assert counted(capsys.readouterr().out, "OptOuts") == 1

    deliver(
        "twilio_inbound_stop",
        stack,
        sqs,
        lambda_context,
        MessageSid="SMstart",
        SmsMessageSid="SMstart",
        SmsSid="SMstart",
        Body="START",
        OptOutType="START",
    )

    assert counted(capsys.readouterr().out, "OptOuts") == 0
