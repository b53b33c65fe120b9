"""Builds the Lambda SQS event a queue's event-source mapping delivers, from ReceiveMessage results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RECEIVE_ATTRIBUTES = [
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
]


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage's MessageAttributes spelling -> the Lambda event's (camelCase)."""
    converted: dict[str, Any] = {
        "dataType": value["DataType"],
        "stringListValues": [],
        "binaryListValues": [],
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = value["BinaryValue"]
    return converted


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str = "us-east-1") -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {
                    k: _attribute(v) for k, v in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def receive_batch(
    sqs: Any, queue_url: str, *, max_messages: int = 10, wait_seconds: int = 0
) -> list[dict[str, Any]]:
    return sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=wait_seconds,
        AttributeNames=RECEIVE_ATTRIBUTES,
        MessageAttributeNames=["All"],
    ).get("Messages", [])


@dataclass(frozen=True)
class BatchOutcome:
    """What Lambda's SQS poller does after one invocation: which messages it deletes, and why not the rest."""

    delete: list[dict[str, Any]]
    failed_ids: list[str]  # left in the queue: back when their visibility timeout ends
    whole_batch_failed: bool = False
    reason: str = ""


def batch_outcome(
    messages: list[dict[str, Any]],
    response: Any,
    *,
    report_batch_item_failures: bool,
    raised: bool = False,
) -> BatchOutcome:
    """Lambda's rules for an SQS batch.

    An invocation that raised fails the whole batch. Without `ReportBatchItemFailures` any return deletes
    the whole batch (the response is ignored). With it: a missing/None response, `{}`, or an empty or null
    `batchItemFailures` is complete success; otherwise every message except the listed `itemIdentifier`s
    is deleted - and a response Lambda cannot read (not an object, a list that is not a list, an item
    without a non-empty `itemIdentifier`, or an id that is not in the batch) fails the whole batch.
    """
    ids = [message["MessageId"] for message in messages]

    def whole(reason: str) -> BatchOutcome:
        return BatchOutcome(delete=[], failed_ids=ids, whole_batch_failed=True, reason=reason)

    if raised:
        return whole("the function raised")
    if not report_batch_item_failures:
        return BatchOutcome(delete=list(messages), failed_ids=[])
    if response is None:
        return BatchOutcome(delete=list(messages), failed_ids=[])
    if not isinstance(response, dict):
        return whole(f"invalid batch response (a {type(response).__name__}, not an object)")
    items = response.get("batchItemFailures")
    if items is None:
        return BatchOutcome(delete=list(messages), failed_ids=[])
    if not isinstance(items, list):
        return whole("invalid batch response (batchItemFailures is not a list)")
    failed: set[str] = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or not identifier:
            return whole("invalid batch response (an item without an itemIdentifier)")
        if identifier not in ids:
            return whole(f"invalid batch response ({identifier!r} is not in the batch)")
        failed.add(identifier)
    return BatchOutcome(
        delete=[message for message in messages if message["MessageId"] not in failed],
        failed_ids=[identifier for identifier in ids if identifier in failed],
    )


def delete_messages(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> list[str]:
    """DeleteMessageBatch, ten at a time; returns the ids SQS could not delete (with the reason)."""
    problems = []
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        result = sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)
            ],
        )
        for failure in result.get("Failed", []):
            message = chunk[int(failure["Id"])]
            problems.append(f"{message['MessageId']}: {failure.get('Code')}")
    return problems


def delete_succeeded(
    sqs: Any, queue_url: str, messages: list[dict[str, Any]], response: dict[str, Any]
) -> int:
    """What Lambda does with a partial batch response: delete every message not reported failed."""
    outcome = batch_outcome(messages, response, report_batch_item_failures=True)
    if outcome.delete:
        delete_messages(sqs, queue_url, outcome.delete)
    return len(outcome.delete)
