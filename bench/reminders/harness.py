"""The reminder bench's harness: a moto stack with N reminders due in the same minute, the dispatcher
as wired (ReminderSends + OutboundQueue), a one-at-a-time baseline dispatcher, and the sender's dedup.

Everything runs in-process against moto with the local stack's moto patches (per-item transaction
rollback, constant-time sends, index queries that read the index), so an operation costs what it costs
in AWS, not what it costs to copy a 20,000-item table.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bench.ingest.common import REGION, CallCounter
from switchboard.dal.outbound_queue import OutboundQueue

__all__ = ["OutboundQueue"]

NOW = 1_796_137_200 - 15 * 60  # 2026-12-01T14:45:00Z: every reminder of a 15:00Z booking is due
DAY = "2026-12-01"
SENDER = "+14155559876"
WRITE_BATCH = 25  # BatchWriteItem's limit


@contextmanager
def reminder_stack() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    from switchboard.dal import aws
    from switchboard_ops.local.moto_patches import local_stack_patches
    from switchboard_ops.local.provision import provision
    from switchboard_ops.local.secrets import webhook_secrets_document

    with mock_aws(), local_stack_patches():
        aws.client.cache_clear()
        resources = provision(boto3.Session(region_name=REGION), secret_document=webhook_secrets_document())
        yield resources
        aws.client.cache_clear()


def phone(n: int) -> str:
    return f"+1415{n:07d}"


def seed(resources: Any, count: int, *, reminders_only: bool = False, version: int = 1) -> None:
    """`count` scheduled reminders due now, each with its own recipient and day slot, written straight
        into the table (as the worker's calendar step leaves them). `reminders_only`: put the reminders back
        to scheduled (a second run on the same table; their recipients and slots are already there), at
    `version` (a new version: new send keys, untouched by the first run's sends)."""
    from switchboard.dal import aws
    from switchboard.dal.address_keys import AddressKeys
    from switchboard.dal.items import to_attribute_values
    from switchboard.dal.recipients import RECIPIENT_SK
    from switchboard.dal.reminders import day_key, reminder_item
    from switchboard.models.reminders import ReminderPlan, ReminderState

    table = resources.tables["EventsTable"]
    items: list[dict[str, Any]] = []
    for n in range(count):
        digest = AddressKeys().of(phone(n))
        plan = ReminderPlan(
            calendar="calcom",
            event_id=f"bench-{n}",
            version=f"{version:020d}",
            state=ReminderState.SCHEDULED,
            due_at=datetime.fromtimestamp(NOW - 30, tz=UTC),
            local_day=DAY,
            phone=phone(n),
            recipient=digest,
            zones=("UTC",),
            title="Checkup",
            start=datetime.fromtimestamp(NOW + 15 * 60, tz=UTC).isoformat(),
            text=f"Reminder: Checkup at 15:00 ({n})",
        )
        items.append(reminder_item(plan, now=NOW - 3600, previous_day=None))
        if reminders_only:
            continue
        items.append(
            {
                "pk": f"RCP#{digest}",
                "sk": RECIPIENT_SK,
                "phone": phone(n),
                "quiet_start": "00:00:00",
                "quiet_end": "00:00:00",
                "enabled": True,
            }
        )
        items.append({**day_key(digest, DAY), "ids": {f"bench-{n}"}})
    dynamodb = aws.client("dynamodb")
    for start in range(0, len(items), WRITE_BATCH):
        requests = [
            {"PutRequest": {"Item": to_attribute_values(i)}} for i in items[start : start + WRITE_BATCH]
        ]
        dynamodb.batch_write_item(RequestItems={table: requests})


def dispatcher(resources: Any, outbound: Any = None) -> Any:
    from switchboard.dal.outbound_queue import OutboundQueue
    from switchboard.dal.reminder_sends import ReminderSends
    from switchboard.dal.reminders import due_shards
    from switchboard.services.reminders.dispatch import Dispatcher

    return Dispatcher(
        store=ReminderSends(resources.tables["EventsTable"]),
        outbound=outbound or OutboundQueue(resources.queues["OutboundQueue"]),
        shards=due_shards(),
        provider="twilio",
        sender=SENDER,
        clock=lambda: NOW,
    )


def one_at_a_time(resources: Any) -> int:
    """The baseline: what a dispatcher without batching does - per reminder a GetItem of it and of each
    fact, a SendMessage and a conditional UpdateItem (the index is paged the same way). Returns sends."""
    from switchboard.dal.notifications import send_message
    from switchboard.dal.queue_bodies import json_body
    from switchboard.dal.reminder_sends import ReminderSends
    from switchboard.dal.reminders import due_shards
    from switchboard.models.outbound import SendRequest

    store = ReminderSends(resources.tables["EventsTable"])
    sent = 0
    for shard in due_shards():
        for page in store.due_pages(shard, NOW * 1000):
            for entry in page:
                (item,) = store.read_many([{"pk": entry["pk"], "sk": entry["sk"]}]).values()
                for key in store.facts_keys(item):
                    store.read_many([key])
                request = SendRequest(
                    send_key=item["send_key"],
                    provider="twilio",
                    sender=SENDER,
                    recipient=item["phone"],
                    body=item["text"],
                    purpose="reminder",
                )
                send_message(resources.queues["OutboundQueue"], json_body(request))
                store.claim([item], NOW)
                sent += 1
    return sent


def measure_dispatch(resources: Any, outbound: Any = None) -> dict[str, Any]:
    with CallCounter() as counter:
        started = time.perf_counter()
        report = dispatcher(resources, outbound).run()
        seconds = time.perf_counter() - started
    return {
        "report": report.as_dict(),
        "calls": counter.count,
        "by_operation": counter.by_operation(),
        "seconds": seconds,
    }


def measure_baseline(resources: Any) -> dict[str, Any]:
    with CallCounter() as counter:
        sent = one_at_a_time(resources)
    return {"sent": sent, "calls": counter.count, "by_operation": counter.by_operation()}


def drain(resources: Any) -> list[str]:
    from switchboard.dal import aws

    sqs, url, bodies = aws.client("sqs"), resources.queues["OutboundQueue"], list[str]()
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        bodies.extend(message["Body"] for message in messages)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )


class KilledAfter:
    """The real outbound queue; the process dies right after the k-th SendMessageBatch (before its claim)."""

    def __init__(self, queue: Any, batches: int) -> None:
        self.queue, self.left = queue, batches

    def send_batch(self, requests: Sequence[Any]) -> list[Any]:
        accepted = self.queue.send_batch(requests)
        self.left -= 1
        if self.left == 0:
            raise SystemExit("dispatcher killed mid-batch")
        return list(accepted)


class CountingProvider:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, request: Any) -> Any:
        from switchboard.providers.outbound import Sent

        self.calls[request.send_key] += 1
        return Sent(provider_message_id=f"SM{sum(self.calls.values()):032d}", status="queued")


def sender(resources: Any, provider: CountingProvider) -> Any:
    from switchboard.dal.dead_letters import RetryQueues
    from switchboard.dal.events_table import EventsTable
    from switchboard.dal.job_records import JobRecords
    from switchboard.dal.jobs_queue import JobsQueue
    from switchboard.dal.outbound_records import OutboundRecords
    from switchboard.dal.reminder_sends import ReminderSends
    from switchboard.services.ratelimit import TokenBucket
    from switchboard.services.sender import Sender

    table = resources.tables["EventsTable"]
    return Sender(
        records=OutboundRecords(table),
        consents=JobRecords(table),
        queues=RetryQueues(resources.queues["OutboundQueue"], resources.queues["OutboundDeadLetterQueue"]),
        transports={"twilio": provider},
        limits={"twilio": TokenBucket(1_000_000)},
        store=EventsTable(table),
        jobs=JobsQueue(resources.queues["ProcessingQueue"]),
        reminders=ReminderSends(table),
        clock=lambda: NOW + 1,
    )


def send(resources: Any, bodies: list[str]) -> dict[str, Any]:
    """The sender over `bodies`, in order, with a counting provider: provider calls per send key."""
    provider = CountingProvider()
    service = sender(resources, provider)
    with CallCounter() as counter:
        outcomes = Counter(service.handle(body, receipt_handle="r", receive_count=1) for body in bodies)
    return {
        "outcomes": dict(outcomes),
        "provider_calls": provider.calls,
        "calls": counter.count,
        "by_operation": counter.by_operation(),
    }
