"""Seed the sandbox's OpenPhone store, pre-store (all or 90 % of) the messages in moto as ingest and the
worker leave them (stored, PROCESSED), then time one Reconciler.run("openphone") wired as
default_reconciler() wires it: the OpenPhone source under a client-side TokenBucket at the provider's
rate, ReconcileRecords' BatchGetItem existence checks, EventsTable + JobsQueue for what is missing.

Nothing is timed but the run. AWS calls are counted with bench.ingest.common.CallCounter (botocore's
_make_api_call, every client); calls made inside the store / job sink (storing a new message and
enqueueing its job) are counted apart, so "calls per already-stored message" excludes them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bench.ingest.common import REGION, CallCounter, progress, quiet_stdout
from switchboard_ops.local.moto_patches import local_stack_patches

BUSINESS = "+14155559876"  # the sandbox's default OpenPhone number
PHONE_NUMBER_ID = "PNtoDbDhuz"
SPAN_SECONDS = 48 * 3600.0
PAGE_SIZE = 100  # OpenPhone's maxResults ceiling
RATE = 10.0  # OpenPhone: "Each API key may make up to 10 requests per second"


def customers(conversations: int) -> list[str]:
    return [f"+1415555{2000 + index:04d}" for index in range(conversations)]


def seed(sandbox: Any, messages: int, conversations: int, *, end: float | None = None) -> dict[str, Any]:
    """`messages` inbound OpenPhone messages spread evenly over the 48 h before `end`, round-robin over
    `conversations` customers; backdated with the sandbox's `date`, webhooks dropped (drop_rate 1.0)."""
    end = time.time() - 60.0 if end is None else end
    numbers = customers(conversations)
    step = SPAN_SECONDS / messages
    started = time.perf_counter()
    for index in range(messages):
        at = end - SPAN_SECONDS + step * (index + 0.5)
        sandbox.inbound(
            "openphone", numbers[index % conversations], BUSINESS, f"msg {index}", date=at, wait=False
        )
    return {
        "messages": messages,
        "conversations": conversations,
        "oldest": end - SPAN_SECONDS,
        "newest": end,
        "seed_seconds": round(time.perf_counter() - started, 3),
    }


class _Timed:
    """The source's TokenBucket, summing the seconds it made the run wait."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.waited = 0.0

    def acquire(self) -> float:
        waited = float(self.inner.acquire())
        self.waited += waited
        return waited


class _Sleeps:
    """Pacing's retry sleeps (a 429's Retry-After, backoffs), summed; they still sleep for real."""

    def __init__(self) -> None:
        self.slept = 0.0

    def __call__(self, seconds: float) -> None:
        self.slept += seconds
        time.sleep(seconds)


class _Counted:
    """A store / job sink whose AWS calls also go to `counter` (storing what was missing)."""

    def __init__(self, inner: Any, counter: CallCounter) -> None:
        self._inner, self._counter = inner, counter

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._counter:
                return attribute(*args, **kwargs)

        return call


def _store_processed(table: Any, message: Any, received_at: float) -> None:
    """A message as a webhook's ingest and then the worker leave it: stored, PROCESSED, out of the
    unfinished-jobs index (which in a working deployment holds only the few jobs on their way). moto's
    index Query reads and sorts every item of the shard instead of seeking on received_at, so 18,000
    never-processed records there cost the stuck-job sweep ~9 s of CPU on the run's GIL in moto, a
    backlog no healthy table has."""
    from switchboard.dal.events_table import to_item
    from switchboard.dal.items import to_attribute_values

    item = to_item(message, source="webhook", received_at=received_at, job=False)
    item.update(job_state="PROCESSED", attempts=1, finished_at=int(received_at * 1000))
    table.dynamodb.put_item(TableName=table.table_name, Item=to_attribute_values(item))


@contextmanager
def _moto_stack() -> Iterator[Any]:
    """A fresh moto AWS with template.yaml's resources; the environment is restored afterwards."""
    import boto3
    from moto import mock_aws

    from switchboard.container import forget_per_container
    from switchboard_ops.local.provision import provision
    from switchboard_ops.local.secrets import webhook_secrets_document

    saved = dict(os.environ)
    with mock_aws():
        resources = provision(
            boto3.Session(region_name=REGION),
            prefix="switchboard-bench-reconcile",
            secret_document=webhook_secrets_document(),
        )
        os.environ.update(resources.environment())
        forget_per_container()
        try:
            yield resources
        finally:
            forget_per_container()
            os.environ.clear()
            os.environ.update(saved)


@dataclass
class Outcome:
    scenario: str
    messages: int
    prestored: int
    expected_new: int
    wall_seconds: float
    pages: int
    floor_seconds: float
    result: dict[str, Any]
    calls: dict[str, int]
    store_calls: dict[str, int]
    aws_ms: dict[str, float]
    bucket_wait_seconds: float
    retry_sleep_seconds: float
    prestore_seconds: float
    window_hours: float
    sandbox_429s: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def overhead_calls(self) -> int:
        """Calls not spent storing a missing message: existence checks, lock, run record, stuck-job query."""
        return self.total_calls - sum(self.store_calls.values())

    @property
    def stats(self) -> dict[str, Any]:
        return dict(self.result.get("totals") or {})

    def as_dict(self) -> dict[str, Any]:
        aws_seconds = sum(self.aws_ms.values()) / 1000
        return {
            "scenario": self.scenario,
            "messages": self.messages,
            "prestored": self.prestored,
            "expected_new": self.expected_new,
            "wall_seconds": round(self.wall_seconds, 3),
            "pages": self.pages,
            "floor_seconds": self.floor_seconds,
            "ratio_to_floor": round(self.wall_seconds / self.floor_seconds, 4),
            "status": self.result.get("status"),
            "totals": self.stats,
            "aws_calls": self.total_calls,
            "aws_calls_by_operation": self.calls,
            "aws_calls_storing_new": self.store_calls,
            "aws_calls_per_message": round(self.total_calls / self.messages, 5),
            "overhead_calls_per_message": round(self.overhead_calls / self.messages, 5),
            "calls_per_new_message": (
                round(sum(self.store_calls.values()) / self.expected_new, 3) if self.expected_new else None
            ),
            # The listing thread fetches page k+1 while the store thread works on page k: the two overlap
            # and need not add up to the wall time.
            "time_breakdown_seconds": {
                "listing_waiting_for_the_token_bucket": round(self.bucket_wait_seconds, 3),
                "listing_retry_sleeps_after_429": round(self.retry_sleep_seconds, 3),
                "storing_inside_aws_calls_moto": round(aws_seconds, 3),
            },
            "aws_ms_by_operation": {name: round(ms, 1) for name, ms in self.aws_ms.items()},
            "sandbox_429s": self.sandbox_429s,
            "prestore_seconds": round(self.prestore_seconds, 2),
            "window_hours": round(self.window_hours, 3),
            **self.extra,
        }


def reconcile_once(
    sandbox: Any,
    seeded: dict[str, Any],
    *,
    scenario: str,
    missing_every: int | None,
    rate: float = RATE,
    settle: bool = True,
    corrected_moto: bool = False,
) -> Outcome:
    """Pre-store the sandbox's OpenPhone messages (all, or all but every `missing_every`-th) in a fresh
    moto, then time one reconciliation run over the seeded window."""
    from switchboard.dal.events_table import EventsTable
    from switchboard.dal.jobs_queue import JobsQueue
    from switchboard.dal.reconcile_records import ReconcileRecords
    from switchboard.providers.listing import Pacing
    from switchboard.providers.openphone_listing import openphone_message
    from switchboard.services.reconcile import OpenPhoneSource, Reconciler, list_bucket
    from switchboard_ops.sandbox.openphone_api import message_json

    listed = sandbox.messages("openphone")
    with _moto_stack() as resources, quiet_stdout():
        table = resources.tables["EventsTable"]
        progress(f"{scenario}: pre-storing {len(listed)} messages (missing every {missing_every or '-'})")
        started = time.perf_counter()
        store, prestored, expected_new = EventsTable(table), 0, 0
        for index, stored in enumerate(listed):
            if missing_every and index % missing_every == 0:
                expected_new += 1
                continue
            _store_processed(store, openphone_message(message_json(stored)), time.time())
            prestored += 1
        prestore_seconds = time.perf_counter() - started

        bucket, sleeps = _Timed(list_bucket(rate)), _Sleeps()  # as default_reconciler() paces
        source = OpenPhoneSource(
            {"api_key": sandbox.openphone_api_key},
            phone_number_id=PHONE_NUMBER_ID,
            conversations=[[number] for number in customers(seeded["conversations"])],
            base_url=sandbox.url,
            max_results=PAGE_SIZE,
            pacing=Pacing(bucket=bucket, sleep=sleeps),
        )
        store_counter = CallCounter(this_thread_only=True)  # not the sweep's queries beside it
        reconciler = Reconciler(
            sources={"openphone": source},
            records=ReconcileRecords(table),
            store=_Counted(EventsTable(table), store_counter),
            jobs=_Counted(JobsQueue(resources.queues["ProcessingQueue"]), store_counter),
        )
        window = timedelta(seconds=time.time() - seeded["oldest"] + 60.0)
        if settle:
            time.sleep(1.1)  # the sandbox's own bucket refills: the run starts as a fresh one would
        before_429 = sandbox.stats().get("rate_limited", 0)
        progress(f"{scenario}: reconciling")
        # moto_patches' corrections (O(1) sends, index queries that read the index, per-item rollback)
        shim = local_stack_patches({}) if corrected_moto else nullcontext()
        with shim, CallCounter() as counter:
            started = time.perf_counter()
            result = reconciler.run("openphone", window=window)
            wall = time.perf_counter() - started
    pages = int((result.get("totals") or {}).get("pages", 0))
    outcome = Outcome(
        scenario=scenario,
        messages=len(listed),
        prestored=prestored,
        expected_new=expected_new,
        wall_seconds=wall,
        pages=pages,
        floor_seconds=pages / rate,
        result=result,
        calls=counter.by_operation(),
        store_calls=store_counter.by_operation(),
        aws_ms=counter.milliseconds_by_operation(),
        bucket_wait_seconds=bucket.waited,
        retry_sleep_seconds=sleeps.slept,
        prestore_seconds=prestore_seconds,
        window_hours=window.total_seconds() / 3600,
        sandbox_429s=sandbox.stats().get("rate_limited", 0) - before_429,
    )
    progress(
        f"{scenario}: {wall:.2f} s for {pages} pages (floor {outcome.floor_seconds:.1f} s),"
        f" {outcome.total_calls} AWS calls, new {outcome.stats.get('new_messages')}"
    )
    return outcome
