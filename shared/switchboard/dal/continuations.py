"""ReconcileFunction's continuation queue: a checkpointed run hands its checkpoint to the follow-up
invocation as one SQS message, which the same function consumes (an SQS event source; Lambda's own
retries and the queue's dead-letter queue cover a continuation that fails)."""

from __future__ import annotations

import json
from typing import Any

from switchboard.dal.aws import InjectedClient
from switchboard.dal.failures import translated
from switchboard.errors import EnqueueFailed


class ContinuationQueue:
    sqs = InjectedClient("sqs")

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self.queue_url = queue_url
        self._sqs = sqs

    def send(self, checkpoint: dict[str, Any]) -> None:
        with translated(EnqueueFailed, "continuation send"):
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=continuation_body(checkpoint))


def continuation_body(checkpoint: dict[str, Any]) -> str:
    """The message: the event a manual resume would send, {"resume_from": <checkpoint>}."""
    return json.dumps({"resume_from": checkpoint}, separators=(",", ":"))
