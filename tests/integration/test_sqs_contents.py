"""SQS refuses a message holding U+FFFE, U+FFFF or a C0 control, which moto accepts: the integration tests'
moto refuses them too (switchboard_ops/local/sqs_rules.py), and every message the product sends carries
any text a provider or a user gave it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from switchboard_ops.local.apigw import http_api_event
from switchboard_ops.local.samples import load_sample
from switchboard_ops.local.signing import signed_headers
from switchboard_ops.project import load_handler

ingest = load_handler("ingest")
REFUSED_BY_SQS = ["\uffff", "\ufffe", "\x00", "\x1f"]


@pytest.mark.parametrize("character", REFUSED_BY_SQS, ids=ascii)
def test_the_tests_moto_refuses_what_sqs_refuses(stack, sqs, character):
    with pytest.raises(ClientError) as refused:
        sqs.send_message(QueueUrl=stack.queues["ProcessingQueue"], MessageBody=f"a{character}b")

    assert refused.value.response["Error"]["Code"] == "InvalidMessageContents"


def test_the_tests_moto_counts_a_message_in_utf8_bytes_with_its_attributes(stack, sqs):
    queue = stack.queues["ProcessingQueue"]
    limit = int(
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]["MaximumMessageSize"]
    )
    emoji = "\U0001f600" * (limit // 4)  # limit bytes of UTF-8 in limit/4 characters

    with pytest.raises(ClientError) as refused:
        sqs.send_message(
            QueueUrl=queue,
            MessageBody=emoji,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "message"}},
        )

    assert "shorter than" in refused.value.response["Error"]["Message"]


def signed_openphone_event(message_id: str) -> dict[str, Any]:
    sample = load_sample("openphone_message_received")
    now = time.time()
    url, _, body = sample.signed("http://127.0.0.1:3000", now=now)
    document = json.loads(body)
    document["data"]["object"]["id"] = message_id
    body = json.dumps(document).encode()
    headers = signed_headers(sample.route, url, body, sample.content_type, now=now, extra=sample.headers)
    return http_api_event(url, body, headers)


@pytest.mark.parametrize("character", REFUSED_BY_SQS, ids=ascii)
def test_a_webhook_whose_id_sqs_would_refuse_is_stored_and_its_job_enqueued(
    stack, sqs, lambda_context, character
):
    # Given a signed OpenPhone webhook whose message id holds a character SQS refuses in a message
    message_id = f"AC8f2b6d1e4a9c47b0a3e5d7c9f1b2a4e6{character}"

    # When it reaches the handler
    response = ingest.handler(signed_openphone_event(message_id), lambda_context)

    # Then it is acknowledged, not a 503 the provider retries forever, and its job names that id exactly
    assert response["statusCode"] == 200, response["body"]
    messages = sqs.receive_message(QueueUrl=stack.queues["ProcessingQueue"])["Messages"]
    assert [json.loads(m["Body"])["provider_message_id"] for m in messages] == [message_id]


@pytest.mark.parametrize(
    "body",
    [f"See you at 3{c}" for c in REFUSED_BY_SQS] + ["\U0001f600" * 20_000],
    ids=[*map(ascii, REFUSED_BY_SQS), "20,000 emoji, the longest body"],
)
def test_a_send_request_with_any_text_reaches_the_outbound_queue_exactly(stack, sqs, body):
    # Given a LinkedIn reply whose text holds a character SQS refuses, or is as long as a body may be
    from switchboard.dal.outbound_queue import OutboundQueue
    from switchboard.models.outbound import SendRequest

    request = SendRequest(
        send_key="reply-1",
        provider="unipile",
        sender="account-1",
        recipient="profile-1",
        body=body,
        channel="linkedin",
        purpose="auto_reply",
        thread={"chat_id": f"chat{body[-1]}"},
    )
    queue = OutboundQueue(stack.queues["OutboundQueue"])

    # When it is enqueued alone and in a batch
    queue.send_request(request)
    accepted = queue.send_batch([request])

    # Then SQS takes both, and the sender reads back the same request
    assert accepted == [request]
    messages = sqs.receive_message(QueueUrl=stack.queues["OutboundQueue"], MaxNumberOfMessages=10)["Messages"]
    assert [SendRequest.model_validate_json(m["Body"]) for m in messages] == [request, request]


def test_a_dead_letter_whose_error_names_such_a_character_is_still_dead_lettered(stack, sqs):
    # Given a job whose failure message quotes an id holding U+FFFF
    from switchboard.dal.dead_letters import RetryQueues

    sender = RetryQueues(stack.queues["ProcessingQueue"], stack.queues["ProcessingDeadLetterQueue"])

    # When the worker dead-letters it
    sender.dead_letter('{"job":"process_event"}', error="no record AC1\uffff", attempts=6, reason="exhausted")

    # Then it is on the DLQ with its reason, the character replaced in the attribute only
    message = sqs.receive_message(
        QueueUrl=stack.queues["ProcessingDeadLetterQueue"], MessageAttributeNames=["All"]
    )["Messages"][0]
    assert message["Body"] == '{"job":"process_event"}'
    assert message["MessageAttributes"]["error"]["StringValue"] == "no record AC1\ufffd"
    assert message["MessageAttributes"]["reason"]["StringValue"] == "exhausted"
