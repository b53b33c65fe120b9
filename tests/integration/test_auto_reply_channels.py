"""Auto-replies through each reply provider's own API: a sample inbound reply ingested into moto, an
approved draft, reply_request -> OutboundQueue -> SenderFunction -> the sandbox's real-path API over
loopback. The sandbox records what it received; the draft records how its send ended."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from emf import emitted

from switchboard.dal.dead_letters import RetryQueues
from switchboard.dal.events_table import EventsTable
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.models.outbound import SendRequest
from switchboard.providers.replies import reply_request
from switchboard.services.ingest import default_service
from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event
from switchboard_ops.project import load_event, load_handler
from switchboard_ops.sandbox import Sandbox
from switchboard_ops.sandbox.reply_apis import RETRY_AFTER_SECONDS, UNKNOWN_THREAD_STATUS

ingest = load_handler("ingest")
sender = load_handler("sender")
EVENTS_NOW = 1795593600  # scripts/make_events.py: the moment the samples were signed
DRAFT_TEXT = "Great, Tuesday at 3pm it is. Talk soon."
# provider -> (sample, stored message pk, the thread the reply must land in, the API's path for faults)
CASES = {
    "ghl": (
        "ghl_inbound_sms",
        "EVT#ghl#tKq4Wz9hB2mXc7RfLp3e",
        {"contactId": "nmt8yL2QfXo3RkPbW4cA"},
        "/conversations/messages",
    ),
    "smartlead": (
        "smartlead_email_reply",
        "EVT#smartlead#<CAF7x2Qp9Lm3Nk8Vb1Rt6Yw0Zs4Hj5Ug@mail.gmail.com>",
        {"campaign_id": "1204577", "email_stats_id": "c1f3a0e2-5b7d-4e8a-9f61-2d4b8c0e7a13"},
        "/api/v1/campaigns/",
    ),
    "instantly": (
        "instantly_reply_received",
        "EVT#instantly#0195f3a2-7c1e-7b4d-9e8f-2a6c4d1b3e57",
        {"reply_to_uuid": "0195f3a2-7c1e-7b4d-9e8f-2a6c4d1b3e57"},
        "/api/v2/emails/reply",
    ),
    "unipile": (
        "unipile_message_received",
        "EVT#unipile#9fGh2KjL4mNp6QrS8tUv",
        {"chat_id": "Rz3nT8wQ1kYb6MvJ0sLd"},
        "/api/v1/chats/",
    ),
}
PROVIDERS = sorted(CASES)


@pytest.fixture(scope="module")
def reply_box() -> Iterator[Sandbox]:
    with Sandbox("http://127.0.0.1:9", drop_rate=1.0) as box:
        yield box


@pytest.fixture
def replies_on(stack, reply_box, monkeypatch) -> Sandbox:
    """The sender's reply APIs at the sandbox (as the local stack sets them), unthrottled for tests."""
    reply_box.reset()
    monkeypatch.setenv("OUTBOUND_QUEUE_URL", stack.queues["OutboundQueue"])
    monkeypatch.setenv("OUTBOUND_DLQ_URL", stack.queues["OutboundDeadLetterQueue"])
    for name in ("GHL", "SMARTLEAD", "INSTANTLY", "UNIPILE"):
        monkeypatch.setenv(f"{name}_API_BASE_URL", reply_box.url)
        monkeypatch.setenv(f"{name}_RATE_PER_SECOND", "1000")
    return reply_box


def approved_reply(
    stack: Any, dynamodb: Any, provider: str, monkeypatch: Any, lambda_context: Any
) -> SendRequest:
    """Given: the provider's sample reply ingested, an approved draft on it, and its reply request."""
    sample, pk, _, _ = CASES[provider]
    monkeypatch.setattr(default_service(), "clock", lambda: EVENTS_NOW)
    response = ingest.handler(load_event(f"ingest/{sample}"), lambda_context)
    assert response["statusCode"] == 200, response["body"]
    record = EventsTable(stack.tables["EventsTable"]).get(pk, "MESSAGE")
    assert record is not None
    draft = {"pk": pk, "sk": "DRAFT", "to": record["sender"], "channel": record["channel"]}
    draft |= {"text": DRAFT_TEXT, "status": "approved"}
    dynamodb.put_item(TableName=stack.tables["EventsTable"], Item=to_attribute_values(draft))
    return reply_request(record, draft)


def draft_of(dynamodb: Any, stack: Any, provider: str) -> dict[str, Any]:
    key = {"pk": {"S": CASES[provider][1]}, "sk": {"S": "DRAFT"}}
    return from_item(dynamodb.get_item(TableName=stack.tables["EventsTable"], Key=key)["Item"])


def run_sender(sqs: Any, stack: Any, lambda_context: Any, receive_count: int | None = None) -> dict[str, Any]:
    """One poll of OutboundQueue into SenderFunction; `receive_count` stands for a later redelivery."""
    url = stack.queues["OutboundQueue"]
    messages = receive_batch(sqs, url)
    if not messages:
        return {"batchItemFailures": [], "received": 0, "handles": []}
    for message in messages:
        if receive_count is not None:
            message["Attributes"]["ApproximateReceiveCount"] = str(receive_count)
    response = sender.handler(sqs_event(messages, stack.queue_arns["OutboundQueue"]), lambda_context)
    delete_succeeded(sqs, url, messages, response)
    return {**response, "received": len(messages), "handles": [m["ReceiptHandle"] for m in messages]}


def enqueue(sqs: Any, stack: Any, request: SendRequest) -> None:
    sqs.send_message(QueueUrl=stack.queues["OutboundQueue"], MessageBody=request.model_dump_json())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_approved_draft_is_sent_once_in_its_own_thread(
    provider, replies_on, stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given an inbound reply with an approved draft, its reply request on the outbound queue
    enqueue(sqs, stack, approved_reply(stack, dynamodb, provider, monkeypatch, lambda_context))

    # When SenderFunction takes it
    result = run_sender(sqs, stack, lambda_context)

    # Then the provider's API received exactly one reply, in the inbound message's thread, with the text
    assert (result["received"], result["batchItemFailures"]) == (1, [])
    [reply] = replies_on.replies(provider)
    assert reply["thread"] == CASES[provider][2]
    assert DRAFT_TEXT in json.dumps(reply["request"])
    # and the draft is sent, with the provider's id (SmartLead queues the reply and names none)
    draft = draft_of(dynamodb, stack, provider)
    assert draft["status"] == "sent"
    assert draft["provider_message_id"] == ("" if provider == "smartlead" else reply["id"])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_same_reply_sent_twice_reaches_the_provider_once(
    provider, replies_on, stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given the same reply request enqueued twice (a retried enqueue, a repeated approval)
    request = approved_reply(stack, dynamodb, provider, monkeypatch, lambda_context)
    enqueue(sqs, stack, request)
    enqueue(sqs, stack, request)

    # When SenderFunction takes both
    while run_sender(sqs, stack, lambda_context)["received"]:
        pass

    # Then one reply reached the provider and the draft is sent
    assert len(replies_on.replies(provider)) == 1
    assert draft_of(dynamodb, stack, provider)["status"] == "sent"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_bad_credentials_fail_the_draft_with_the_providers_reason_and_count(
    provider, replies_on, stack, dynamodb, sqs, lambda_context, monkeypatch, capsys
):
    # Given a provider that no longer accepts our key (rotated on its side)
    enqueue(sqs, stack, approved_reply(stack, dynamodb, provider, monkeypatch, lambda_context))
    field = "access_token" if provider == "ghl" else "api_key"
    monkeypatch.setitem(replies_on.ctx.reply_secrets, provider, {field: "rotated-elsewhere"})
    capsys.readouterr()

    # When SenderFunction sends the reply
    result = run_sender(sqs, stack, lambda_context)

    # Then nothing was sent, the draft failed with the provider's 401 reason, and the failure counted
    assert result["batchItemFailures"] == []
    assert replies_on.replies(provider) == []
    draft = draft_of(dynamodb, stack, provider)
    assert draft["status"] == "failed"
    assert draft["error"].startswith("401:")
    assert emitted(capsys.readouterr().out, "AutoReplyFailures") == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rate_limited_reply_is_retried_after_its_retry_after_then_sent(
    provider, replies_on, stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given a provider that answers the first reply with its 429 and a Retry-After
    enqueue(sqs, stack, approved_reply(stack, dynamodb, provider, monkeypatch, lambda_context))
    replies_on.add_faults({"path": CASES[provider][3], "method": "POST", "status": 429, "count": 1})
    delays: list[int] = []
    real_retry_later = RetryQueues.retry_later

    def recorded(queues: RetryQueues, receipt_handle: str, seconds: int) -> None:
        delays.append(seconds)
        real_retry_later(queues, receipt_handle, seconds)

    monkeypatch.setattr(RetryQueues, "retry_later", recorded)

    # When SenderFunction takes it, and again when SQS redelivers it (the second receive)
    first = run_sender(sqs, stack, lambda_context)
    # (the requested delay passing, without waiting for it)
    sqs.change_message_visibility(
        QueueUrl=stack.queues["OutboundQueue"], ReceiptHandle=first["handles"][0], VisibilityTimeout=0
    )
    second = run_sender(sqs, stack, lambda_context, receive_count=2)

    # Then the first try asked SQS for the provider's Retry-After, and the second sent one reply
    assert len(first["batchItemFailures"]) == 1 and second["batchItemFailures"] == []
    assert delays == [RETRY_AFTER_SECONDS]
    assert len(replies_on.replies(provider)) == 1
    assert draft_of(dynamodb, stack, provider)["status"] == "sent"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_reply_to_a_thread_the_provider_does_not_know_fails_the_draft(
    provider, replies_on, stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given a provider that does not know the thread (deleted contact, chat or campaign lead)
    enqueue(sqs, stack, approved_reply(stack, dynamodb, provider, monkeypatch, lambda_context))
    status = UNKNOWN_THREAD_STATUS[provider]
    replies_on.add_faults({"path": CASES[provider][3], "method": "POST", "status": status, "count": 1})

    # When SenderFunction sends the reply
    result = run_sender(sqs, stack, lambda_context)

    # Then it is not retried and the draft failed with the provider's status and reason
    assert result["batchItemFailures"] == []
    assert replies_on.replies(provider) == []
    draft = draft_of(dynamodb, stack, provider)
    assert (draft["status"], draft["error"].split(":")[0]) == ("failed", str(status))


def test_a_reply_still_rate_limited_at_its_last_attempt_fails_the_draft(
    replies_on, stack, dynamodb, sqs, lambda_context, monkeypatch, capsys
):
    # Given a provider that answers 429 to every attempt the sender has (three)
    enqueue(sqs, stack, approved_reply(stack, dynamodb, "instantly", monkeypatch, lambda_context))
    replies_on.add_faults({"path": CASES["instantly"][3], "method": "POST", "status": 429, "count": 3})
    capsys.readouterr()

    # When SenderFunction takes it on each of its three receives
    for receive_count in (1, 2, 3):
        result = run_sender(sqs, stack, lambda_context, receive_count=receive_count)
        if result["handles"] and result["batchItemFailures"]:
            sqs.change_message_visibility(
                QueueUrl=stack.queues["OutboundQueue"],
                ReceiptHandle=result["handles"][0],
                VisibilityTimeout=0,
            )

    # Then the send is dead-lettered, and the draft failed with the last 429 and counted once
    assert receive_batch(sqs, stack.queues["OutboundDeadLetterQueue"])
    draft = draft_of(dynamodb, stack, "instantly")
    assert (draft["status"], "429" in draft["error"]) == ("failed", True)
    assert emitted(capsys.readouterr().out, "AutoReplyFailures") == 1


def test_a_draft_left_approved_by_a_crash_after_the_send_is_marked_sent_on_redelivery(
    replies_on, stack, dynamodb, sqs, lambda_context, monkeypatch
):
    # Given a sender that dies after recording the send, before moving the draft
    from switchboard.dal.drafts import Drafts

    enqueue(sqs, stack, approved_reply(stack, dynamodb, "unipile", monkeypatch, lambda_context))

    def crash(*args: Any, **kwargs: Any) -> bool:
        raise SystemExit("Lambda timed out")

    url = stack.queues["OutboundQueue"]
    messages = receive_batch(sqs, url)
    with monkeypatch.context() as patched:
        patched.setattr(Drafts, "finish_send", crash)
        with pytest.raises(SystemExit):
            sender.handler(sqs_event(messages, stack.queue_arns["OutboundQueue"]), lambda_context)
    assert draft_of(dynamodb, stack, "unipile")["status"] == "approved"

    # When SQS delivers the request again
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0
    )
    run_sender(sqs, stack, lambda_context, receive_count=2)

    # Then the reply was sent once and the draft is sent with its id
    [reply] = replies_on.replies("unipile")
    draft = draft_of(dynamodb, stack, "unipile")
    assert (draft["status"], draft["provider_message_id"]) == ("sent", reply["id"])
