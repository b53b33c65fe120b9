"""Publishing to queues and topics for the health check: delayed verification, canary sends, alerts."""

from __future__ import annotations

from typing import Any

from switchboard.dal.aws import client
from switchboard.dal.failures import translated
from switchboard.errors import EnqueueFailed


def send_message(queue_url: str, body: str, *, delay_seconds: int = 0, sqs: Any = None) -> None:
    with translated(EnqueueFailed, "SQS send"):
        (sqs or client("sqs")).send_message(
            QueueUrl=queue_url, MessageBody=body, DelaySeconds=max(0, min(900, delay_seconds))
        )


def publish_alert(topic_arn: str, subject: str, message: str, *, sns: Any = None) -> None:
    with translated(EnqueueFailed, "SNS publish"):
        (sns or client("sns")).publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)
