"""The processing queue: one SQS message per stored event, pointing at its record."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from switchboard.dal.aws import InjectedClient
from switchboard.errors import EnqueueFailed
from switchboard.models import Job


class JobsQueue:
    sqs = InjectedClient("sqs")

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self.queue_url = queue_url
        self._sqs = sqs

    def enqueue_job(self, job: Job) -> str:
        try:
            response = self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=job.model_dump_json(),
                MessageAttributes={
                    "provider": {"DataType": "String", "StringValue": job.provider},
                    "kind": {"DataType": "String", "StringValue": job.kind},
                },
            )
        except ClientError as exc:
            raise EnqueueFailed(f"SQS send failed: {exc.response.get('Error', {}).get('Code')}") from exc
        return str(response["MessageId"])
