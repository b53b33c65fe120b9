"""The outbound queue: one send request (the worker's auto-replies, the CLI), or up to 10 per
SendMessageBatch (the reminder dispatcher)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from switchboard.dal.aws import InjectedClient
from switchboard.dal.failures import translated
from switchboard.dal.jobs_queue import BATCH_LIMIT
from switchboard.dal.notifications import send_message
from switchboard.dal.queue_bodies import json_body
from switchboard.errors import EnqueueFailed
from switchboard.models.outbound import SendRequest


class OutboundQueue:
    sqs = InjectedClient("sqs")

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self.queue_url = queue_url
        self._sqs = sqs

    def send_request(self, request: SendRequest) -> None:
        send_message(self.queue_url, json_body(request), sqs=self.sqs)

    def send_batch(self, requests: Sequence[SendRequest]) -> list[SendRequest]:
        """One SendMessageBatch (at most 10): the requests SQS accepted. A failed request raises."""
        if len(requests) > BATCH_LIMIT:
            raise ValueError(f"at most {BATCH_LIMIT} send requests per batch")
        if not requests:
            return []
        entries = [{"Id": str(i), "MessageBody": json_body(r)} for i, r in enumerate(requests)]
        with translated(EnqueueFailed, "SQS send_message_batch"):
            response = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        failed = {int(entry["Id"]) for entry in response.get("Failed", [])}
        return [request for index, request in enumerate(requests) if index not in failed]
