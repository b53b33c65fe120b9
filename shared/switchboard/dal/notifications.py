"""Publishing to queues and topics for the health check: delayed verification, canary sends, alerts."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from switchboard.dal.aws import client
from switchboard.errors import EnqueueFailed


def send_message(queue_url: str, body: str, *, delay_seconds: int = 0, sqs: Any = None) -> None:
    try:
        (sqs or client("sqs")).send_message(
            QueueUrl=queue_url, MessageBody=body, DelaySeconds=max(0, min(900, delay_seconds))
        )
    except ClientError as exc:
        raise EnqueueFailed(f"SQS send failed: {exc.response.get('Error', {}).get('Code')}") from exc


def publish_alert(topic_arn: str, subject: str, message: str, *, sns: Any = None) -> None:
    try:
        (sns or client("sns")).publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)
    except ClientError as exc:
        raise EnqueueFailed(f"SNS publish failed: {exc.response.get('Error', {}).get('Code')}") from exc
