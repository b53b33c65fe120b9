"""Queue operations for retries and the dead-letter queue: backoff visibility, dead-lettering, redrive."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from switchboard.dal.aws import client
from switchboard.errors import EnqueueFailed


class RetryQueues:
    def __init__(self, source_url: str, dead_letter_url: str, sqs: Any = None) -> None:
        self.source_url = source_url
        self.dead_letter_url = dead_letter_url
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        if self._sqs is None:
            self._sqs = client("sqs")
        return self._sqs

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Hide the failed message for `seconds`: SQS redelivers it then (the backoff)."""
        try:
            self.sqs.change_message_visibility(QueueUrl=self.source_url, ReceiptHandle=receipt_handle,
                                               VisibilityTimeout=seconds)
        except ClientError as exc:
            # Not fatal: the queue's own visibility timeout still brings the message back.
            raise EnqueueFailed(f"ChangeMessageVisibility failed: {exc.response['Error'].get('Code')}") from exc

    def dead_letter(self, body: str, *, error: str, attempts: int, reason: str, provider: str = "",
                    job_type: str = "") -> None:
        attributes = {
            "error": error[:256] or "unknown",
            "attempts": str(attempts),
            "reason": reason,
            "provider": provider or "unknown",
            "job_type": job_type or "unknown",
            "source_queue": self.source_url,
        }
        try:
            self.sqs.send_message(
                QueueUrl=self.dead_letter_url,
                MessageBody=body,
                MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
            )
        except ClientError as exc:
            raise EnqueueFailed(f"dead-letter send failed: {exc.response['Error'].get('Code')}") from exc
