"""Figure 1: jobs per second through the worker handler, AWS answered by moto in-process (no network).

Both workers share one process and one moto. Each gets the same N stored events and jobs (bench/worker/
mix.py), after a warm-up drain of its own. Then the two queues are drained in alternating blocks of
`block` polls (which worker goes first flips every block), so drift — CPU frequency, moto's growing
tables, the neighbours of a 2-core box — falls on both alike. A poll is ReceiveMessage (10), the
handler, DeleteMessageBatch of what succeeded; only the handler call is timed. jobs/s = jobs / the sum of
handler time. Every job must succeed, and both tables must end in the same state (checked, untimed).

Measured twice: with moto as shipped, and with moto's per-transaction whole-table copy replaced by a
per-item snapshot (switchboard_ops/local/moto_patches.py, which the local stack also uses): moto as
shipped charges each TransactWriteItems for every item in the table, which real DynamoDB does not.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Any

from bench.ingest.common import REGION, CallCounter, Figure, median, progress, quiet_stdout, spread
from bench.worker import mix
from bench.worker.common import (
    SIDES,
    Poll,
    WorkerContext,
    drain,
    end_state,
    poll,
    seed,
    set_up_workers,
)
from switchboard_ops.local.moto_patches import per_item_rollback

WARM_UP = 20
TITLES = {"moto": "moto as shipped", "per_item_rollback": "per-item rollback"}
MODES = {
    "moto": "moto as shipped",
    "per_item_rollback": "moto, per-item transaction rollback (bench shim)",
}


def _item_count(dynamodb: Any, table: str) -> int:
    return sum(
        page["Count"] for page in dynamodb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    )


def measure(jobs: int, block: int, mode: str) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    context = WorkerContext()
    shim = per_item_rollback() if mode == "per_item_rollback" else contextlib.nullcontext()
    with mock_aws(), shim, quiet_stdout():
        workers = set_up_workers(boto3.Session(region_name=REGION))
        sides = workers.sides()
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        warm = mix.generate(WARM_UP, seed=11, start_at=mix.START_AT - 86_400)
        seeds = mix.generate(jobs)
        for side in sides.values():  # first-job costs (clients, settings, lazy imports) stay out
            seed(side, warm, dynamodb, sqs)
            drain(side, sqs, context)
        for side in sides.values():
            seed(side, seeds, dynamodb, sqs)
        items_at_start = {name: _item_count(dynamodb, side.table) for name, side in sides.items()}

        polls: dict[str, list[Poll]] = {name: [] for name in SIDES}
        counters = {name: CallCounter() for name in SIDES}
        pending = set(SIDES)
        number = 0
        while pending:
            order = SIDES if number % 2 == 0 else SIDES[::-1]
            for name in (name for name in order if name in pending):
                gc.collect()
                for _ in range(block):
                    done = poll(sides[name], sqs, context, around_handler=counters[name])
                    if not done.jobs:
                        pending.discard(name)
                        break
                    polls[name].append(done)
            number += 1
        states = {name: end_state(dynamodb, side.table) for name, side in sides.items()}
        items_at_end = {name: _item_count(dynamodb, side.table) for name, side in sides.items()}
    return {
        "mode": mode,
        "polls": polls,
        "counters": counters,
        "composition": mix.composition(seeds),
        "items_at_start": items_at_start,
        "items_at_end": items_at_end,
        "same_end_state": states["ours"] == states["baseline"],
    }


def summarise(measured: dict[str, Any]) -> dict[str, Any]:
    """Per side: jobs, handler seconds, jobs/s, ms per job by poll, and where the time went."""
    out: dict[str, Any] = {}
    for name in SIDES:
        polls: list[Poll] = measured["polls"][name]
        counter: CallCounter = measured["counters"][name]
        jobs = sum(p.jobs for p in polls)
        seconds = sum(p.handler_ns for p in polls) / 1e9
        per_job = [p.handler_ns / 1e6 / p.jobs for p in polls]
        quarter = max(1, len(per_job) // 4)
        aws_ms = counter.milliseconds_by_operation()
        operations = counter.by_operation()
        out[name] = {
            "jobs": jobs,
            "polls": len(polls),
            "handler_seconds": round(seconds, 4),
            "jobs_per_second": jobs / seconds,
            "ms_per_job_by_poll": spread(per_job),
            "drift_ms_per_job_first_vs_last_quarter": [
                round(median(per_job[:quarter]), 3),
                round(median(per_job[-quarter:]), 3),
            ],
            "aws_calls_per_job": counter.count / jobs,
            "ms_per_job": {
                **{op: round(ms / jobs, 3) for op, ms in aws_ms.items()},
                "handler's own work": round((seconds * 1e3 - sum(aws_ms.values())) / jobs, 3),
                "total": round(seconds * 1e3 / jobs, 3),
            },
            "ms_per_call": {op: round(aws_ms[op] / operations[op], 3) for op in aws_ms},
        }
    return out


def figures(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    jobs, block = (100, 2) if quick else (1000, 5)
    rows, breakdown = [], {}
    for mode, label in MODES.items():
        progress(
            f"throughput ({label}): {jobs} jobs per worker, batches of 10, alternating blocks of "
            f"{block} polls (moto in-process)"
        )
        measured = measure(jobs, block, mode)
        if not measured["same_end_state"]:
            raise RuntimeError(f"{mode}: the two workers left different end states")
        summary = summarise(measured)
        ours, base = summary["ours"]["jobs_per_second"], summary["baseline"]["jobs_per_second"]
        breakdown[mode] = {name: summary[name]["ms_per_job"] for name in SIDES}
        rows.append(
            Figure(
                key=f"jobs_per_second.{mode}",
                title=f"Jobs / s through the handler ({TITLES[mode]})",
                unit="jobs/s",
                ours=round(ours, 2),
                baseline=round(base, 2),
                target="ratio >= 1",
                passed=ours >= base,
                detail={
                    "method": f"{jobs} seeded jobs per worker after {WARM_UP} warm-up jobs; polls of up to "
                    f"10; blocks of {block} polls, order flipped every block; handler time only; {label}",
                    "composition": measured["composition"],
                    "items_in_events_table": {
                        "at_start": measured["items_at_start"],
                        "at_end": measured["items_at_end"],
                    },
                    "same_end_state": measured["same_end_state"],
                    **summary,
                },
            )
        )
    return rows, breakdown
