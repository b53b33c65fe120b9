"""Seed 003's loop for the parts drafts own: sentiment -> status -> draft strategy -> generation ->
auto-send, with moto for AWS and the sandbox over loopback for the model, Twilio and Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_worker import SMS_PK, ingest_sample, record, run_worker_once  # same directory: on sys.path

from switchboard.container import forget_per_container
from switchboard.dal.aws import client
from switchboard.models.drafts import draft_send_key
from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event
from switchboard_ops.project import load_handler
from switchboard_ops.sandbox import Sandbox
from switchboard_ops.sandbox.store import OUTBOUND

sender = load_handler("sender")
CONTACT = "+14155550123"


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox("http://127.0.0.1:9", twilio_rate=1000.0) as sandbox:
        yield sandbox


def set_secret(stack: Any, section: str, value: dict[str, str]) -> None:
    sm = client("secretsmanager")
    document = json.loads(sm.get_secret_value(SecretId=stack.secrets["WebhookSecrets"])["SecretString"])
    document[section] = value
    sm.put_secret_value(SecretId=stack.secrets["WebhookSecrets"], SecretString=json.dumps(document))


@pytest.fixture
def loop(stack, box, monkeypatch) -> Iterator[Sandbox]:
    """The worker on the sandbox's chat completions, auto-send on for Twilio, Slack configured; the
    sender on the sandbox's Twilio API."""
    box.reset()
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("LLM_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("LLM_BASE_URL", f"{box.url}/v1")
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("AUTO_SEND_PROVIDERS", "twilio,instantly")
    monkeypatch.setenv("TWILIO_API_BASE_URL", box.url)
    for name, variable in (
        ("OutboundQueue", "OUTBOUND_QUEUE_URL"),
        ("OutboundDeadLetterQueue", "OUTBOUND_DLQ_URL"),
    ):
        monkeypatch.setenv(variable, stack.queues[name])
    set_secret(stack, "slack", {"webhook_url": f"{box.url}/slack/hook"})
    forget_per_container()
    yield box
    forget_per_container()


def usage(dynamodb: Any, stack: Any) -> list[str]:
    items = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    return sorted(item["feature"]["S"] for item in items if "feature" in item)


def outbound(sqs: Any, stack: Any) -> list[dict[str, Any]]:
    return receive_batch(sqs, stack.queues["OutboundQueue"])


def run_sender(sqs: Any, stack: Any, messages: list[dict[str, Any]], lambda_context: Any) -> None:
    response = sender.handler(sqs_event(messages, stack.queue_arns["OutboundQueue"]), lambda_context)
    delete_succeeded(sqs, stack.queues["OutboundQueue"], messages, response)


def sms(lambda_context: Any, body: str) -> None:
    ingest_sample("twilio_inbound_sms", lambda_context, Body=body)


def test_a_positive_sms_gets_a_two_step_draft_that_is_auto_sent_once(
    loop, stack, dynamodb, sqs, lambda_context
):
    # Given a positive SMS reply with the model on and auto-send on for Twilio
    sms(lambda_context, "Yes, Tuesday at 3pm works for me")
    # When the worker processes it and the sender sends what was enqueued
    assert run_worker_once(sqs, stack, lambda_context)["batchItemFailures"] == []
    [request] = outbound(sqs, stack)
    run_sender(sqs, stack, [request], lambda_context)
    # Then three model calls were recorded: classification, strategy and generation
    assert usage(dynamodb, stack) == ["draft.generate", "draft.strategy", "sentiment.classify"]
    # And the LLM's draft was approved by policy, its send keyed on the draft id
    draft = record(dynamodb, stack, SMS_PK, "DRAFT")
    assert (draft["status"], draft["approved_by"], draft["variant"]) == ("approved", "auto", "llm")
    body = json.loads(request["Body"])
    assert body["send_key"] == draft_send_key(SMS_PK) and body["purpose"] == "auto_reply"
    assert (body["recipient"], body["body"]) == (CONTACT, draft["text"])
    # And the sandbox's Twilio API received the reply once
    [sent] = [m for m in loop.messages("twilio") if m.direction == OUTBOUND]
    assert sent.body == draft["text"]


def test_the_hot_lead_goes_to_slack_once_without_the_full_number(loop, stack, sqs, lambda_context):
    # Given a positive SMS reply and a Slack webhook in the secret
    sms(lambda_context, "Yes, Tuesday at 3pm works for me")
    # When the worker processes it
    run_worker_once(sqs, stack, lambda_context)
    # Then Slack received one short message: intent and draft id, the number masked
    [text] = loop.slack_messages()
    assert "Meeting Requested" in text and SMS_PK in text
    assert CONTACT not in text and "***23" in text


def test_slack_throttling_is_retried_after_its_retry_after(loop, stack, sqs, lambda_context):
    # Given Slack answering the first notice 429 with Retry-After: 1
    loop.add_faults({"path": "/slack/", "status": 429, "count": 1})
    sms(lambda_context, "Yes, Tuesday at 3pm works for me")
    # When the worker processes the hot lead
    assert run_worker_once(sqs, stack, lambda_context)["batchItemFailures"] == []
    # Then the notice arrived on the retry
    assert len(loop.slack_messages()) == 1


def test_a_failing_slack_never_fails_the_job(loop, stack, dynamodb, sqs, lambda_context):
    # Given Slack refusing every notice (its hook removed)
    loop.add_faults({"path": "/slack/", "status": 404, "count": None})
    sms(lambda_context, "Yes, Tuesday at 3pm works for me")
    # When the worker processes the hot lead
    result = run_worker_once(sqs, stack, lambda_context)
    # Then the job is processed and its draft enqueued all the same
    assert result["batchItemFailures"] == []
    assert record(dynamodb, stack, SMS_PK)["job_state"] == "PROCESSED"
    assert len(outbound(sqs, stack)) == 1 and loop.slack_messages() == []


def test_a_neutral_reply_gets_no_draft(loop, stack, dynamodb, sqs, lambda_context):
    sms(lambda_context, "Thanks")
    run_worker_once(sqs, stack, lambda_context)
    assert record(dynamodb, stack, SMS_PK, "DRAFT") == {} and outbound(sqs, stack) == []


def test_a_negative_reply_gets_no_draft_and_pauses_follow_ups(loop, stack, dynamodb, sqs, lambda_context):
    from test_worker import CONTACT_PK

    sms(lambda_context, "Not interested, thanks")
    run_worker_once(sqs, stack, lambda_context)
    assert record(dynamodb, stack, SMS_PK, "DRAFT") == {} and outbound(sqs, stack) == []
    assert record(dynamodb, stack, CONTACT_PK, "PROFILE")["followups_paused"] is True


def test_a_failing_model_leaves_a_template_draft_with_the_reason(loop, stack, dynamodb, sqs, lambda_context):
    # Given a model that answers 503 to everything
    loop.add_faults({"path": "/v1/chat/completions", "status": 503, "count": None})
    sms(lambda_context, "Yes, Tuesday at 3pm works for me")
    # When the worker processes the reply
    assert run_worker_once(sqs, stack, lambda_context)["batchItemFailures"] == []
    # Then the template drafted it, saying the strategy step was unavailable (no generation was tried)
    draft = record(dynamodb, stack, SMS_PK, "DRAFT")
    assert (draft["variant"], draft["fallback"]) == ("template", "strategy_unavailable")
    assert usage(dynamodb, stack) == ["draft.strategy", "sentiment.classify"]


def test_the_same_webhook_twice_makes_one_draft_and_one_send_request(
    loop, stack, dynamodb, sqs, lambda_context
):
    # Given the same webhook delivered twice, and the job delivered again after it finished
    sms(lambda_context, "Yes, Tuesday at 3pm works for me")
    sms(lambda_context, "Yes, Tuesday at 3pm works for me")
    run_worker_once(sqs, stack, lambda_context)
    job = {"job": "process_event", "pk": SMS_PK, "sk": "MESSAGE", "provider": "twilio", "kind": "message"}
    sqs.send_message(QueueUrl=stack.queues["ProcessingQueue"], MessageBody=json.dumps(job))
    # When the worker runs again
    run_worker_once(sqs, stack, lambda_context)
    # Then one send request was enqueued, keyed on the draft
    requests = outbound(sqs, stack)
    assert [json.loads(m["Body"])["send_key"] for m in requests] == [draft_send_key(SMS_PK)]


def test_a_contact_written_to_since_the_reply_is_not_auto_answered(
    loop, stack, dynamodb, sqs, lambda_context
):
    from test_worker import CONTACT_PK

    # Given a roll-up whose last message (ours) is newer than the reply
    sms(lambda_context, "Yes, Tuesday at 3pm works for me")
    dynamodb.put_item(
        TableName=stack.tables["EventsTable"],
        Item={
            "pk": {"S": CONTACT_PK},
            "sk": {"S": "PROFILE"},
            "last_message_at": {"S": "2099-01-01T00:00:00Z"},
            "last_inbound_at": {"S": "2020-01-01T00:00:00Z"},
        },
    )
    # When the worker processes the reply
    run_worker_once(sqs, stack, lambda_context)
    # Then the draft waits for review with the reason, and nothing is enqueued
    draft = record(dynamodb, stack, SMS_PK, "DRAFT")
    assert (draft["status"], draft["auto_send_hold"]) == ("pending_review", "replied_since")
    assert outbound(sqs, stack) == []


def test_a_positive_instantly_reply_is_auto_sent_once_through_instantlys_reply_api(
    loop, stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given auto-send on for Instantly, its reply API at the sandbox
    monkeypatch.setenv("INSTANTLY_API_BASE_URL", loop.url)
    forget_per_container()
    ingest_sample("instantly_reply_received", lambda_context)
    # When the worker processes the positive reply and the sender takes its request (delivered twice)
    run_worker_once(sqs, stack, lambda_context)
    [request] = outbound(sqs, stack)
    run_sender(sqs, stack, [request, request], lambda_context)
    # Then Instantly's API received exactly one reply, and the two-step LLM draft is sent
    assert len(loop.replies("instantly")) == 1
    [pk] = [
        item["pk"]["S"]
        for item in dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
        if item["sk"]["S"] == "DRAFT"
    ]
    draft = record(dynamodb, stack, pk, "DRAFT")
    assert (draft["status"], draft["variant"], draft["approved_by"]) == ("sent", "llm", "auto")
    assert usage(dynamodb, stack) == ["draft.generate", "draft.strategy", "sentiment.classify"]


def test_the_strategy_reads_the_contacts_earlier_messages(loop, stack, dynamodb, sqs, lambda_context):
    from switchboard.dal.job_records import JobRecords

    # Given an earlier message of the contact, processed
    ingest_sample(
        "twilio_inbound_sms",
        lambda_context,
        Body="Who is this?",
        MessageSid="SMearlier1",
        SmsSid="SMearlier1",
        SmsMessageSid="SMearlier1",
    )
    run_worker_once(sqs, stack, lambda_context)
    # When the contact's conversation is read
    conversation = JobRecords(stack.tables["EventsTable"]).conversation(CONTACT, 6)
    # Then it holds the message's text and the roll-up's times
    assert [line.text for line in conversation.lines] == ["Who is this?"]
    assert conversation.last_message_at == conversation.lines[0].at
