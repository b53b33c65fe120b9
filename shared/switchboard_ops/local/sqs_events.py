"""Builds the Lambda SQS event a queue's event-source mapping delivers, from ReceiveMessage results."""

from __future__ import annotations

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


def delete_succeeded(
    sqs: Any, queue_url: str, messages: list[dict[str, Any]], response: dict[str, Any]
) -> int:
    """What Lambda does with a partial batch response: delete every message not reported failed."""
    failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(done)],
        )
    return len(done)
