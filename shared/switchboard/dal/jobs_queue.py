"""The processing queue: one SQS message per stored event, pointing at its record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from switchboard.dal.aws import InjectedClient
from switchboard.dal.failures import AWS_ERRORS, translated
from switchboard.dal.queue_bodies import json_body
from switchboard.errors import EnqueueFailed
from switchboard.models import Job

BATCH_LIMIT = 10  # SQS SendMessageBatch's maximum entries per request


class JobsQueue:
    sqs = InjectedClient("sqs")

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self.queue_url = queue_url
        self._sqs = sqs

    def enqueue_job(self, job: Job) -> str:
        with translated(EnqueueFailed, "SQS send"):
            response = self.sqs.send_message(QueueUrl=self.queue_url, **_message(job))
        return str(response["MessageId"])

    def enqueue_jobs(self, jobs: Sequence[Job]) -> list[Job]:
        """SendMessageBatch, 10 jobs a request; entries SQS reports as failed are sent once more. Returns
        the jobs still not enqueued (their records stay unfinished: the next stuck-job sweep finds them)."""
        failed: list[Job] = []
        for start in range(0, len(jobs), BATCH_LIMIT):
            chunk = list(jobs[start : start + BATCH_LIMIT])
            for _ in range(2):
                chunk = self._send_batch(chunk)
                if not chunk:
                    break
            failed.extend(chunk)
        return failed

    def _send_batch(self, jobs: list[Job]) -> list[Job]:
        entries = [{"Id": str(index), **_message(job)} for index, job in enumerate(jobs)]
        try:
            response = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except AWS_ERRORS:  # the whole request failed: every entry is retried / returned
            return jobs
        return [jobs[int(entry["Id"])] for entry in response.get("Failed", [])]


def _message(job: Job) -> dict[str, Any]:
    return {
        "MessageBody": json_body(job),
        "MessageAttributes": {
            "provider": {"DataType": "String", "StringValue": job.provider},
            "kind": {"DataType": "String", "StringValue": job.kind},
        },
    }
