"""The measurements: WorkerFunction on in-process moto, the sandbox's chat completions over loopback.

Every job is a positive SMS reply from its own contact (no two jobs contend for one roll-up), stored and
enqueued as ingest does (bench.worker.common.seed). Two sides, both with auto-send on for Twilio:
- "llm": LLM_PROVIDER=openai against the sandbox: classify + draft strategy + draft generation, three
  model calls per job, each `llm_latency` seconds late;
- "rules": no model: the rules classifier and the template draft (the baseline).
Lambda is played by `concurrency` threads, each receiving one record per invocation (so jobs/s is about
concurrency / job time; a batch of 10 would run its ten jobs one after another inside one invocation).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from bench.ingest.common import REGION, CallCounter, quiet_stdout
from bench.outbound.common import environment
from bench.worker import mix
from bench.worker.common import Side, WorkerContext, seed

MODEL = "gpt-4o-mini"  # priced in switchboard.models.ai_usage.DEFAULT_PRICES
REPLY = "Yes, Tuesday at 3pm works for me"  # positive for the rules and for the sandbox's model alike
SIDES = ("llm", "rules")


class Bench:
    """One moto stack, one sandbox, the worker handler; `side()` rewires it for a configuration."""

    def __init__(self, session: Any, sandbox: Any) -> None:
        from switchboard_ops.local.provision import provision
        from switchboard_ops.local.secrets import webhook_secrets_document
        from switchboard_ops.project import load_handler

        self.stack = provision(
            session, prefix="switchboard-bench-replies", secret_document=webhook_secrets_document()
        )
        self.sandbox = sandbox
        self.dynamodb = session.client("dynamodb")
        self.sqs = session.client("sqs")
        self.context = WorkerContext()
        self.module = load_handler("worker")
        self._contacts = 0
        self._day_started = time.time()

    def variables(self, side: str, *, auto_send: bool) -> dict[str, str]:
        values = {
            **self.stack.environment(),
            "OUTBOUND_QUEUE_URL": self.stack.queues["OutboundQueue"],
            "OUTBOUND_DLQ_URL": self.stack.queues["OutboundDeadLetterQueue"],
            "AUTO_SEND_PROVIDERS": "twilio" if auto_send else "",
            "LLM_PROVIDER": "",
        }
        if side == "llm":
            values.update(
                LLM_PROVIDER="openai",
                LLM_MODEL=MODEL,
                LLM_BASE_URL=f"{self.sandbox.url}/v1",
                LLM_TIMEOUT_SECONDS="10",  # well above any latency measured: no call times out
            )
        return values

    @contextmanager
    def side(self, side: str, *, auto_send: bool = True) -> Iterator[Side]:
        from switchboard.container import forget_per_container

        with environment(**self.variables(side, auto_send=auto_send)):
            forget_per_container()  # the worker's settings and clients are built again from this environment
            try:
                yield Side(
                    side,
                    self.module,
                    self.stack.tables["EventsTable"],
                    self.stack.queues["ProcessingQueue"],
                    self.stack.queue_arns["ProcessingQueue"],
                )
            finally:
                forget_per_container()

    def seed_replies(self, side: Side, jobs: int) -> list[str]:
        """`jobs` positive replies, each from a contact never seen before; returns their record keys."""
        at = mix.START_AT + self._contacts
        people = mix.contacts(self._contacts + jobs)[self._contacts :]
        self._contacts += jobs
        seeds = [
            mix.SeedEvent("positive", mix.inbound(who, REPLY, at + i), at + i) for i, who in enumerate(people)
        ]
        return [key["pk"] for key in seed(side, seeds, self.dynamodb, self.sqs)]

    def outbound_depth(self) -> int:
        """Send requests waiting on the outbound queue (nothing drains it here: no sender runs)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.stack.queues["OutboundQueue"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def usage(self, job_pks: set[str]) -> list[dict[str, Any]]:
        """The AI usage records of these jobs (a run may straddle midnight UTC: every day it touched)."""
        from switchboard.dal.ai_usage import AiUsageRecords, day_of

        records = AiUsageRecords(self.stack.tables["EventsTable"], self.dynamodb)
        days = dict.fromkeys((day_of(self._day_started), day_of(time.time())))
        return [call for day in days for call in records.calls_on(day) if call["job_pk"] in job_pks]


def invoke_one(
    side: Side, sqs: Any, context: Any, message: dict[str, Any], counter: CallCounter | None = None
) -> None:
    """One Lambda invocation with one record; `counter` counts the handler's calls (not the poller's)."""
    from switchboard_ops.local.sqs_events import delete_succeeded, sqs_event

    with counter if counter is not None else nullcontext():
        response = side.handler(sqs_event([message], side.queue_arn), context)
    if response.get("batchItemFailures"):
        raise RuntimeError(f"{side.name}: job failed: {response}")
    delete_succeeded(sqs, side.queue_url, [message], response)


@contextmanager
def serialized_aws() -> Iterator[None]:
    """One AWS call at a time across threads while active.

    In-process moto is one backend without locks (as shipped, its TransactWriteItems deep-copies a table
    while another thread writes it: "dictionary changed size during iteration"); per_item_rollback locks
    DynamoDB only, this every service. AWS serves concurrent requests; here each call waits for the one
    in flight (milliseconds, against the model's 800 ms).
    """
    from botocore.client import BaseClient

    lock = threading.Lock()
    original = BaseClient._make_api_call

    def one_at_a_time(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        with lock:
            return original(client, operation_name, api_params)

    BaseClient._make_api_call = one_at_a_time
    try:
        yield
    finally:
        BaseClient._make_api_call = original


def drain_concurrently(side: Side, sqs: Any, context: Any, concurrency: int) -> tuple[int, float]:
    """`concurrency` threads each receive one record, invoke the handler, delete it, until the queue is
    empty. Returns (jobs, seconds from the first receive to the last delete)."""
    from switchboard_ops.local.sqs_events import receive_batch

    done: list[int] = []
    failures: list[BaseException] = []

    def lambda_instance() -> None:
        try:
            while messages := receive_batch(sqs, side.queue_url, max_messages=1):
                invoke_one(side, sqs, context, messages[0])
                done.append(1)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread below
            failures.append(exc)

    threads = [threading.Thread(target=lambda_instance, name=f"worker-{n}") for n in range(concurrency)]
    with serialized_aws():
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    if failures:
        raise failures[0]
    return len(done), elapsed


def calls_per_job(bench: Bench, side: str, *, auto_send: bool, jobs: int) -> dict[str, Any]:
    """Jobs handed to the handler one at a time, the AWS calls it makes counted per job (the poller's
    ReceiveMessage / DeleteMessageBatch are Lambda's and left out, as bench.worker does)."""
    from switchboard_ops.local.sqs_events import receive_batch

    operations: Counter[str] = Counter()
    processed = 0
    with bench.side(side, auto_send=auto_send) as worker:
        bench.seed_replies(worker, 1)  # a cold start (the secret read, first clients) is not a job's cost
        drain_concurrently(worker, bench.sqs, bench.context, 1)
        before = bench.outbound_depth()
        pks = set(bench.seed_replies(worker, jobs))
        while messages := receive_batch(bench.sqs, worker.queue_url):
            for message in messages:
                counter = CallCounter()
                invoke_one(worker, bench.sqs, bench.context, message, counter)
                operations.update(counter.calls)
                processed += 1
    usage = bench.usage(pks)
    return {
        "jobs": processed,
        "mean": sum(operations.values()) / processed,
        "per_job_operations": {op: n / processed for op, n in sorted(operations.items())},
        "send_requests_enqueued": bench.outbound_depth() - before,
        "model_calls": dict(sorted(Counter(call["feature"] for call in usage).items())),
        "usage": usage,
    }


def cost_per_thousand(usage: list[dict[str, Any]], jobs: int) -> float:
    return float(sum(call["cost_usd"] for call in usage)) / jobs * 1000


@contextmanager
def bench_stack(llm_latency: float) -> Iterator[Bench]:
    import boto3
    from moto import mock_aws

    from switchboard_ops.local.moto_patches import per_item_rollback
    from switchboard_ops.sandbox import Sandbox

    with (
        mock_aws(),
        # As the local stack runs: moto as shipped deep-copies the whole table for every transaction, so
        # each job would cost more than the one before it (the table grows through the run).
        per_item_rollback(),
        quiet_stdout(),
        Sandbox("http://127.0.0.1:9", twilio_rate=1000.0) as sandbox,  # no webhooks go back: no API needed
    ):
        sandbox.configure(llm_latency=llm_latency)
        yield Bench(boto3.Session(region_name=REGION), sandbox)


def measure(
    *, llm_latency: float, concurrencies: tuple[int, ...], jobs_per_level: int, call_jobs: int
) -> dict[str, Any]:
    """Throughput at each concurrency for both sides, then AWS calls and model usage per job."""
    from bench.ingest.common import progress

    result: dict[str, Any] = {"throughput": {}, "calls": {}}
    with bench_stack(llm_latency) as bench:
        for side in SIDES:  # warm-up: first imports, the secret cache, moto's first tables
            with bench.side(side) as worker:
                bench.seed_replies(worker, 1)
                drain_concurrently(worker, bench.sqs, bench.context, 1)
        for concurrency in concurrencies:
            result["throughput"][concurrency] = {}
            for side in SIDES:
                with bench.side(side) as worker:
                    bench.seed_replies(worker, jobs_per_level)
                    jobs, seconds = drain_concurrently(worker, bench.sqs, bench.context, concurrency)
                result["throughput"][concurrency][side] = {
                    "jobs": jobs,
                    "seconds": seconds,
                    "jobs_per_s": jobs / seconds,
                }
                progress(f"  {side} x{concurrency}: {jobs} jobs in {seconds:.2f} s")
        bench.sandbox.configure(llm_latency=0.0)  # calls and cost do not depend on the latency
        for side in SIDES:
            result["calls"][side] = {
                "auto_send": calls_per_job(bench, side, auto_send=True, jobs=call_jobs),
                "no_auto_send": calls_per_job(bench, side, auto_send=False, jobs=call_jobs),
            }
    return result
