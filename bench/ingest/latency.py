"""Figure 2: handler time per webhook, AWS answered by moto in-process (no network), same for both.

Both handlers share one process and one moto. After a warm-up, they alternate in blocks (which one goes
first flips every block) so drift — CPU frequency, moto's growing tables, the neighbours of a 2-core
box — falls on both alike. A block sends `block` new webhooks, then the same webhooks again as
duplicates (their jobs still pending, as when Twilio retries within its 15 s). Each handler call is timed
alone; event building, signing and garbage collection between blocks are outside the timings.

The handler's queue is purged after every webhook (untimed): moto's SendMessage walks every message
already in the queue (for ApproximateNumberOfMessages), so a handler that enqueues more — ours re-enqueues
pending duplicates — would otherwise be charged for moto's growing queue, which real SQS does not do.
"""

from __future__ import annotations

import copy
import functools
import gc
import os
import time
from collections.abc import Callable
from typing import Any

from bench.ingest.common import (
    REGION,
    FakeLambdaContext,
    Figure,
    median,
    progress,
    quiet_stdout,
    set_up_handlers,
    spread,
)
from bench.ingest.webhooks import twilio_webhook

WARM_UP = 10


def _timed(
    handler: Any, events: list[dict[str, Any]], context: Any, into: list[float], after: Callable[[], Any]
) -> None:
    clock = time.perf_counter_ns
    for event in events:
        start = clock()
        response = handler(event, context)
        elapsed = clock() - start
        after()  # untimed
        if response.get("statusCode") != 200:
            raise RuntimeError(f"webhook not accepted: {response}")
        into.append(elapsed / 1e6)


def measure(webhooks: int, block: int) -> dict[str, dict[str, list[float]]]:
    import boto3
    from moto import mock_aws

    context = FakeLambdaContext()
    timings: dict[str, dict[str, list[float]]] = {
        side: {"new": [], "duplicate": []} for side in ("ours", "baseline")
    }
    # moto allows one PurgeQueue per queue per 60 s, as SQS does, unless told otherwise.
    os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"
    with mock_aws(), quiet_stdout():
        wired = set_up_handlers(boto3.Session(region_name=REGION))
        handlers = {"ours": wired.ours, "baseline": wired.baseline}
        queues = {
            "ours": wired.stacks.ours.queues["ProcessingQueue"],
            "baseline": wired.stacks.baseline.queue_url,
        }
        sqs = boto3.client("sqs", region_name=REGION)
        purge = {side: functools.partial(sqs.purge_queue, QueueUrl=url) for side, url in queues.items()}
        for side, handler in handlers.items():  # first-webhook costs (secret, lazy imports) stay out
            warm = [twilio_webhook() for _ in range(WARM_UP)]
            _timed(handler, [copy.deepcopy(event) for event in warm], context, [], purge[side])
            _timed(handler, warm, context, [], purge[side])
        for number in range(webhooks // block):
            order = ("ours", "baseline") if number % 2 == 0 else ("baseline", "ours")
            for side in order:
                new = [twilio_webhook() for _ in range(block)]
                duplicates = copy.deepcopy(new)
                gc.collect()
                _timed(handlers[side], new, context, timings[side]["new"], purge[side])
                _timed(handlers[side], duplicates, context, timings[side]["duplicate"], purge[side])
    return timings


def figures(quick: bool) -> list[Figure]:
    webhooks, block = (40, 10) if quick else (300, 25)
    progress(
        f"handler time: {webhooks} new + {webhooks} duplicate webhooks per handler, "
        f"alternating blocks of {block} (moto in-process)"
    )
    timings = measure(webhooks, block)
    medians = {
        side: {kind: median(values) for kind, values in kinds.items()} for side, kinds in timings.items()
    }
    detail: dict[str, Any] = {
        side: {kind: spread(values) for kind, values in kinds.items()} for side, kinds in timings.items()
    }
    quarter = webhooks // 4
    detail["drift_first_vs_last_quarter_median_ms"] = {
        side: {
            kind: [round(median(values[:quarter]), 3), round(median(values[-quarter:]), 3)]
            for kind, values in kinds.items()
        }
        for side, kinds in timings.items()
    }
    detail["method"] = (
        f"{webhooks} new + {webhooks} duplicate webhooks per handler after {WARM_UP} warm-up webhooks; "
        f"blocks of {block}, order flipped every block; milliseconds per handler call"
    )

    def mix(side: str) -> float:  # a 50/50 mix of new and duplicate webhooks, from per-kind medians
        return (medians[side]["new"] + medians[side]["duplicate"]) / 2

    rows = [
        Figure(
            key="handler_ms.webhook",
            title="Handler time / webhook (50/50 new/dup)",
            unit="ms",
            ours=round(mix("ours"), 3),
            baseline=round(mix("baseline"), 3),
            target="ratio <= 0.6",
            passed=mix("ours") / mix("baseline") <= 0.6,
            detail=detail,
        )
    ]
    for kind, title in (
        ("new", "Handler time / new webhook"),
        ("duplicate", "Handler time / duplicate (job pending)"),
    ):
        ratio = medians["ours"][kind] / medians["baseline"][kind]
        rows.append(
            Figure(
                key=f"handler_ms.{kind}",
                title=title,
                unit="ms",
                ours=round(medians["ours"][kind], 3),
                baseline=round(medians["baseline"][kind], 3),
                target="ratio <= 0.6",
                passed=ratio <= 0.6,
            )
        )
    return rows
