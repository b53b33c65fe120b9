"""Auto-replies on the local stack: an approved draft on a stored Instantly reply goes out through the
sandbox's Instantly API (the local stack points the sender at it), once, and the draft reads sent."""

from __future__ import annotations

import time
from typing import Any

import pytest

from switchboard.dal.items import from_item, to_attribute_values
from switchboard.providers.replies import reply_request
from switchboard_ops.local.environment import DUMMY_CREDENTIALS
from switchboard_ops.local.samples import load_sample, with_changes

pytestmark = pytest.mark.e2e

PROCESSED_WITHIN = 15
SENT_WITHIN = 20  # seconds for the outbound poller to take both copies


def aws(stack: Any, service: str) -> Any:
    import boto3

    return boto3.Session(
        region_name=stack.state["region"],
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    ).client(service, endpoint_url=stack.state["aws_endpoint_url"])


def drained(sqs: Any, queue_url: str) -> bool:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return all(attributes[name] == "0" for name in names)


def test_an_approved_instantly_draft_is_sent_once_through_the_instantly_api(live_stack: Any):
    # Given a stored, processed Instantly reply and an approved draft on it
    response = live_stack.post(with_changes(load_sample("instantly_reply_received"), new_id=True))
    assert response.status_code == 200, response.text
    result = response.json()
    live_stack.jobs[(result["provider"], result["provider_message_id"])] = False
    live_stack.wait_for_message(
        "instantly",
        result["provider_message_id"],
        lambda found: found["job_state"] == "PROCESSED",
        timeout=PROCESSED_WITHIN,
        what="PROCESSED",
    )
    table, dynamodb = live_stack.state["table_name"], aws(live_stack, "dynamodb")
    pk = f"EVT#instantly#{result['provider_message_id']}"
    record = from_item(
        dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": "MESSAGE"}})["Item"]
    )
    draft = {"pk": pk, "sk": "DRAFT", "to": record["sender"], "channel": "email"}
    draft |= {"text": "Tuesday works. Talk then!", "status": "approved"}
    dynamodb.put_item(TableName=table, Item=to_attribute_values(draft))

    # When its reply request reaches the outbound queue twice
    request = reply_request(record, draft).model_dump_json()
    sqs = aws(live_stack, "sqs")
    for _ in range(2):
        sqs.send_message(QueueUrl=live_stack.state["queues"]["OutboundQueue"], MessageBody=request)

    # Then, once the queue is empty, the draft is sent and the sandbox's Instantly API received one reply
    deadline = time.monotonic() + SENT_WITHIN
    key = {"pk": {"S": pk}, "sk": {"S": "DRAFT"}}
    while time.monotonic() < deadline and not drained(sqs, live_stack.state["queues"]["OutboundQueue"]):
        time.sleep(0.2)
    status = from_item(dynamodb.get_item(TableName=table, Key=key)["Item"])["status"]
    assert status == "sent", live_stack.log()[-3000:]
    replies = live_stack.sandbox("GET", "/sandbox/replies?provider=instantly")["replies"]
    to_this = [r for r in replies if r["thread"]["reply_to_uuid"] == result["provider_message_id"]]
    assert len(to_this) == 1
