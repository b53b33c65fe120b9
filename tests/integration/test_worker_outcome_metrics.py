"""The worker's counts behind the delivery-rate and opt-out-rate alarms: each message's first final
status (MessagesDelivered / MessagesUndelivered) and each recorded opt-out (OptOuts), in EMF."""

from __future__ import annotations

from typing import Any

import pytest
from emf import emitted
from test_worker import START_REPLY, ingest_sample, run_worker_once  # same directory: on sys.path


@pytest.fixture(autouse=True)
def fresh_worker(stack):
    from switchboard.function_settings import worker_settings

    worker_settings.cache_clear()
    yield
    worker_settings.cache_clear()


def deliver(name: str, stack: Any, sqs: Any, lambda_context: Any, **changes: str) -> None:
    """Ingest a sample webhook (re-signed when changed), then one worker poll."""
    ingest_sample(name, lambda_context, **changes)
    run_worker_once(sqs, stack, lambda_context)


def test_a_delivered_callback_counts_one_delivery_and_a_repeat_counts_nothing(
    stack, sqs, lambda_context, capsys
):
    # Given a message's "delivered" callback, then a late "sent" and a second "delivered" for it
    deliver("twilio_status_delivered", stack, sqs, lambda_context)
    deliver("twilio_status_delivered", stack, sqs, lambda_context, MessageStatus="sent", SmsStatus="sent")

    output = capsys.readouterr().out

    # Then one delivery is counted, no failure
    assert emitted(output, "MessagesDelivered") == 1
    assert emitted(output, "MessagesUndelivered") == 0


def test_an_undelivered_callback_counts_a_failed_delivery(stack, sqs, lambda_context, capsys):
    deliver("twilio_status_undelivered", stack, sqs, lambda_context)

    output = capsys.readouterr().out

    assert (emitted(output, "MessagesUndelivered"), emitted(output, "MessagesDelivered")) == (1, 0)


def test_a_stop_counts_an_opt_out_and_a_start_does_not(stack, sqs, lambda_context, capsys):
    deliver("twilio_inbound_stop", stack, sqs, lambda_context)
    assert emitted(capsys.readouterr().out, "OptOuts") == 1

    deliver("twilio_inbound_stop", stack, sqs, lambda_context, **START_REPLY)

    assert emitted(capsys.readouterr().out, "OptOuts") == 0
