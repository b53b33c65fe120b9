"""What every worker figure shares: both stacks, both handlers, seeding, and one simulated SQS poll.

Built on bench.ingest.common (environment, call counter, Figure, quiet stdout, by-file loading) and on
switchboard_ops.local.sqs_events, which the integration tests use to play Lambda's SQS poller.

- ours: template.yaml's resources (EventsTable, ProcessingQueue, ...) and functions/worker/app.py;
- baseline: a second copy of the same resources (so both start from identical records) plus a
  Powertools idempotency table, and bench/worker/baseline_worker.py.
Both are seeded with the same stored events (EventsTable.store_if_new + JobsQueue.enqueue_job: what
ingest does for a new webhook) and drained the same way: ReceiveMessage 10, the handler, then
DeleteMessageBatch of what the partial response did not report failed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.ingest.common import (
    FakeLambdaContext,
    create_idempotency_table,
    load_baseline_handler,
)
from bench.worker.mix import SeedEvent

BASELINE_WORKER = Path(__file__).resolve().with_name("baseline_worker.py")
SIDES = ("ours", "baseline")


class WorkerContext(FakeLambdaContext):
    function_name = "WorkerFunction"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:WorkerFunction"
    log_group_name = "/aws/lambda/WorkerFunction"


@dataclass
class Side:
    name: str
    module: ModuleType  # functions/worker/app.py or bench/worker/baseline_worker.py, loaded by file
    table: str
    queue_url: str
    queue_arn: str

    @property
    def handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        return self.module.handler


@dataclass
class Workers:
    ours: Side
    baseline: Side
    idempotency_table: str

    def sides(self) -> dict[str, Side]:
        return {"ours": self.ours, "baseline": self.baseline}


@dataclass
class BaselineWorkerResources:
    stack: Any  # switchboard_ops.local.provision.StackResources: a second copy of the template's resources
    idempotency_table: str

    def environment(self) -> dict[str, str]:
        return {
            "BASELINE_WORKER_TABLE": self.stack.tables["EventsTable"],
            "BASELINE_WORKER_IDEMPOTENCY_TABLE": self.idempotency_table,
        }


def provision_baseline_worker(session: Any, *, prefix: str) -> BaselineWorkerResources:
    """The baseline's own EventsTable and queues (from template.yaml, like ours) and idempotency table."""
    from switchboard_ops.local.provision import provision

    stack = provision(session, prefix=prefix)
    return BaselineWorkerResources(
        stack, create_idempotency_table(session.client("dynamodb"), f"{prefix}-idempotency")
    )


def load_workers(ours: Any, baseline: BaselineWorkerResources) -> Workers:
    """Both handlers loaded and wired afresh; os.environ must already name both stacks' resources."""
    from switchboard.container import forget_per_container
    from switchboard_ops.project import load_handler

    forget_per_container()

    def side(name: str, module: ModuleType, stack: Any) -> Side:
        return Side(
            name,
            module,
            stack.tables["EventsTable"],
            stack.queues["ProcessingQueue"],
            stack.queue_arns["ProcessingQueue"],
        )

    return Workers(
        ours=side("ours", load_handler("worker"), ours),
        baseline=side("baseline", load_baseline_handler(BASELINE_WORKER), baseline.stack),
        idempotency_table=baseline.idempotency_table,
    )


def set_up_workers(session: Any, *, prefix: str = "switchboard-bench-worker") -> Workers:
    """Both stacks provisioned in the AWS `session` reaches, names in os.environ, handlers loaded afresh."""
    from switchboard_ops.local.provision import provision
    from switchboard_ops.local.secrets import webhook_secrets_document

    ours = provision(session, prefix=prefix, secret_document=webhook_secrets_document())
    baseline = provision_baseline_worker(session, prefix=f"{prefix}-baseline")
    os.environ.update(ours.environment())
    os.environ.update(baseline.environment())
    return load_workers(ours, baseline)


def seed(side: Side, seeds: list[SeedEvent], dynamodb: Any, sqs: Any) -> list[dict[str, str]]:
    """Store each event and enqueue its job, as ingest does for a new webhook; returns the jobs' keys."""
    from switchboard.dal.events_table import EventsTable
    from switchboard.dal.jobs_queue import JobsQueue
    from switchboard.models import Job

    table, queue = EventsTable(side.table, dynamodb), JobsQueue(side.queue_url, sqs)
    keys = []
    for item in seeds:
        stored = table.store_if_new(item.event, received_at=item.received_at)
        if not stored.created:
            raise RuntimeError(f"seed event {stored.key} was already stored")
        queue.enqueue_job(
            Job(
                pk=stored.key["pk"],
                sk=stored.key["sk"],
                provider=item.event.provider,
                kind=item.event.kind,
                provider_message_id=item.event.provider_message_id,
            )
        )
        keys.append(stored.key)
    return keys


@dataclass
class Poll:
    jobs: int
    handler_ns: int


def poll(side: Side, sqs: Any, context: Any, *, around_handler: Any = None) -> Poll:
    """One poll of the event-source mapping: receive up to 10, invoke (timed alone), delete what succeeded.

    `around_handler`: a context manager entered just around the handler call (a CallCounter, a profiler).
    Any failed record is an error here: both workers are expected to process every seeded job.
    """
    from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event

    messages = receive_batch(sqs, side.queue_url)
    if not messages:
        return Poll(0, 0)
    event = sqs_event(messages, side.queue_arn)
    with around_handler if around_handler is not None else _nothing():
        start = time.perf_counter_ns()
        response = side.handler(event, context)
        elapsed = time.perf_counter_ns() - start
    if response.get("batchItemFailures"):
        raise RuntimeError(f"{side.name}: {len(response['batchItemFailures'])} job(s) failed: {response}")
    delete_succeeded(sqs, side.queue_url, messages, response)
    return Poll(len(messages), elapsed)


def drain(side: Side, sqs: Any, context: Any, **options: Any) -> list[Poll]:
    polls = []
    while (done := poll(side, sqs, context, **options)).jobs:
        polls.append(done)
    return polls


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# ------------------------------------------------------------------------------------------ end state


def end_state(dynamodb: Any, table: str) -> dict[str, Any]:
    """What processing left in an events table, in a form both workers must agree on.

    Records: state and annotations by key; contacts: counts, status, pause flag; drafts; suppressions;
    delivery statuses. Timestamps, attempts and lease fields are left out (only ours has a claim).
    """
    from switchboard.dal.items import from_item

    annotation_fields = ("job_state", "intent", "sentiment", "classifier", "consent", "draft")
    contact_fields = ("message_count", "inbound_count", "status", "followups_paused")
    state: dict[str, dict[str, Any]] = {
        "records": {},
        "contacts": {},
        "drafts": {},
        "suppressions": {},
        "deliveries": {},
    }
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for raw in page["Items"]:
            item = from_item(raw)
            pk, sk = item["pk"], item["sk"]
            if pk.startswith("CONTACT#"):
                state["contacts"][pk] = {key: item.get(key) for key in contact_fields}
            elif pk.startswith("SUPPRESSION#"):
                state["suppressions"][pk] = {key: item.get(key) for key in ("suppressed", "last_keyword")}
            elif sk == "DRAFT":
                state["drafts"][pk] = {key: item.get(key) for key in ("to", "channel", "text", "status")}
            elif sk == "DELIVERY":
                state["deliveries"][pk] = {key: item.get(key) for key in ("delivery_status", "rank")}
            else:
                state["records"][f"{pk}|{sk}"] = {key: item.get(key) for key in annotation_fields}
    return state


def same_end_state(dynamodb: Any, workers: Workers) -> bool:
    return end_state(dynamodb, workers.ours.table) == end_state(dynamodb, workers.baseline.table)
