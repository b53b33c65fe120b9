"""Queue operations for retries and the dead-letter queue: backoff visibility, dead-lettering, redrive."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from switchboard.dal.aws import InjectedClient
from switchboard.dal.failures import error_code, translated
from switchboard.dal.queue_bodies import attribute_text
from switchboard.errors import EnqueueFailed


class RetryQueues:
    sqs = InjectedClient("sqs")

    def __init__(self, source_url: str, dead_letter_url: str, sqs: Any = None) -> None:
        self.source_url = source_url
        self.dead_letter_url = dead_letter_url
        self._sqs = sqs

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Hide the failed message for `seconds`: SQS redelivers it then (the backoff)."""
        # Not fatal: the queue's own visibility timeout still brings the message back.
        with translated(EnqueueFailed, "ChangeMessageVisibility"):
            self.sqs.change_message_visibility(
                QueueUrl=self.source_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )

    def dead_letter(
        self, body: str, *, error: str, attempts: int, reason: str, provider: str = "", job_type: str = ""
    ) -> None:
        attributes = {
            "error": error[:256] or "unknown",
            "attempts": str(attempts),
            "reason": reason,
            "provider": provider or "unknown",
            "job_type": job_type or "unknown",
            "source_queue": self.source_url,
        }
        with translated(EnqueueFailed, "dead-letter send"):
            self.sqs.send_message(
                QueueUrl=self.dead_letter_url,
                MessageBody=body,
                MessageAttributes={
                    k: {"DataType": "String", "StringValue": attribute_text(v)} for k, v in attributes.items()
                },
            )


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    attributes: dict[str, str]
    sent_at_ms: int
    receipt_handle: str


class DeadLetterQueue:
    """Inspect and redrive a dead-letter queue, natively where SQS offers it, by hand where not (moto)."""

    sqs = InjectedClient("sqs")

    def __init__(self, dead_letter_url: str, source_url: str, sqs: Any = None) -> None:
        self.dead_letter_url = dead_letter_url
        self.source_url = source_url
        self._sqs = sqs

    def _hold_all(self, limit: int, hold_seconds: int) -> list[DeadLetter]:
        """Receive up to `limit` messages, keeping each hidden for `hold_seconds` so none repeats."""
        held: dict[str, DeadLetter] = {}
        while len(held) < limit:
            batch = self.sqs.receive_message(
                QueueUrl=self.dead_letter_url,
                MaxNumberOfMessages=min(10, limit - len(held)),
                VisibilityTimeout=hold_seconds,
                AttributeNames=["SentTimestamp"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                held[message["MessageId"]] = DeadLetter(
                    message_id=message["MessageId"],
                    body=message["Body"],
                    attributes={
                        k: v.get("StringValue", "") for k, v in message.get("MessageAttributes", {}).items()
                    },
                    sent_at_ms=int(message.get("Attributes", {}).get("SentTimestamp", 0)),
                    receipt_handle=message["ReceiptHandle"],
                )
        return list(held.values())

    def _release(self, letters: list[DeadLetter]) -> None:
        for start in range(0, len(letters), 10):
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.dead_letter_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                    for i, letter in enumerate(letters[start : start + 10])
                ],
            )

    def list(self, limit: int = 100) -> list[DeadLetter]:
        """A look that leaves every message in place (each is held for a moment, then released)."""
        letters = self._hold_all(limit, hold_seconds=30)
        self._release(letters)
        return letters

    def redrive(self, message_ids: set[str] | None = None, limit: int = 1000) -> builtins.list[str]:
        """Move the given messages (all when None) back to the source queue; returns the moved ids."""
        if message_ids is None and self._native_move():
            return ["*"]
        letters = self._hold_all(limit, hold_seconds=60)
        chosen = [letter for letter in letters if message_ids is None or letter.message_id in message_ids]
        self._release([letter for letter in letters if letter not in chosen])
        for letter in chosen:
            # send first, delete second: a crash between them repeats a job, which is idempotent
            self.sqs.send_message(
                QueueUrl=self.source_url,
                MessageBody=letter.body,
                MessageAttributes={"redriven_from": {"DataType": "String", "StringValue": letter.message_id}},
            )
            self.sqs.delete_message(QueueUrl=self.dead_letter_url, ReceiptHandle=letter.receipt_handle)
        return [letter.message_id for letter in chosen]

    def _native_move(self) -> bool:
        """SQS's own move task (StartMessageMoveTask); False where it is not implemented (moto)."""
        arns = [
            self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            for url in (self.dead_letter_url, self.source_url)
        ]
        try:
            self.sqs.start_message_move_task(SourceArn=arns[0], DestinationArn=arns[1])
        except NotImplementedError:
            return False
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            # moto's server answers 500 for the task it lacks; after a real 5xx, moving by hand works too
            if "NotImplemented" in error_code(exc) or status >= 500:
                return False
            raise
        return True
