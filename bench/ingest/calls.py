"""Figure 1: AWS calls per webhook — new, duplicate of a pending job, duplicate of a processed job.

Both handlers run against the same in-process moto, warmed by one webhook each (that first webhook also
fetches the webhook secret; it is reported apart). Counted by bench.ingest.common.CallCounter.
"""

from __future__ import annotations

import copy
from typing import Any

from bench.ingest.common import (
    REGION,
    CallCounter,
    FakeLambdaContext,
    Figure,
    mark_processed,
    progress,
    quiet_stdout,
    set_up_handlers,
)
from bench.ingest.webhooks import message_sid, twilio_webhook


def _count(handler: Any, event: dict[str, Any], context: Any) -> CallCounter:
    with CallCounter() as counter:
        response = handler(copy.deepcopy(event), context)
    if response.get("statusCode") != 200:
        raise RuntimeError(f"webhook not accepted: {response}")
    return counter


def _summary(counters: list[CallCounter]) -> dict[str, Any]:
    counts = [counter.count for counter in counters]
    operations: dict[str, int] = {}
    for counter in counters:
        for name, number in counter.by_operation().items():
            operations[name] = operations.get(name, 0) + number
    return {
        "webhooks": len(counts),
        "mean": sum(counts) / len(counts),
        "min": min(counts),
        "max": max(counts),
        "per_webhook_operations": {name: number / len(counts) for name, number in sorted(operations.items())},
    }


def measure(webhooks: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    context = FakeLambdaContext()
    with mock_aws(), quiet_stdout():
        wired = set_up_handlers(boto3.Session(region_name=REGION))
        sides = {"ours": wired.ours, "baseline": wired.baseline}
        result: dict[str, dict[str, Any]] = {}
        sent: dict[str, list[dict[str, Any]]] = {}
        for side, handler in sides.items():
            first = _count(handler, twilio_webhook(), context)
            events = [twilio_webhook() for _ in range(webhooks)]
            sent[side] = events
            result[side] = {
                "first_webhook": {"calls": first.count, "operations": first.by_operation()},
                "new": _summary([_count(handler, event, context) for event in events]),
                "duplicate_pending": _summary([_count(handler, event, context) for event in events]),
            }
        # The worker finished these jobs: a later duplicate needs no new job (ours reads that from the
        # failed put). The baseline has no job state; its duplicates always cost the same.
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        marked = mark_processed(
            dynamodb, wired.stacks.ours.tables["EventsTable"], {message_sid(event) for event in sent["ours"]}
        )
        if marked != webhooks:
            raise RuntimeError(f"marked {marked} of {webhooks} stored events as processed")
        for side, handler in sides.items():
            result[side]["duplicate_processed"] = _summary(
                [_count(handler, event, context) for event in sent[side]]
            )
    return result


def figures(quick: bool) -> list[Figure]:
    webhooks = 5 if quick else 50
    progress(
        f"AWS calls: {webhooks} new webhooks and their duplicates through each handler (moto in-process)"
    )
    measured = measure(webhooks)
    ours, base = measured["ours"], measured["baseline"]

    def figure(kind: str, title: str, target: str, passed: bool) -> Figure:
        return Figure(
            key=f"aws_calls.{kind}",
            title=title,
            unit="calls",
            ours=ours[kind]["mean"],
            baseline=base[kind]["mean"],
            target=target,
            passed=passed,
            detail={"ours": ours[kind], "baseline": base[kind]},
        )

    rows = [
        figure(
            "new",
            "AWS calls / new webhook",
            "ours = 2",
            ours["new"]["min"] == ours["new"]["max"] == 2,
        ),
        figure(
            "duplicate_pending",
            "AWS calls / duplicate (job pending)",
            "ours <= 2",
            ours["duplicate_pending"]["max"] <= 2,
        ),
        figure(
            "duplicate_processed",
            "AWS calls / duplicate (job processed)",
            "ours <= 2",
            ours["duplicate_processed"]["max"] <= 2,
        ),
    ]
    rows[0].detail["first_webhook_of_container"] = {
        "ours": ours["first_webhook"],
        "baseline": base["first_webhook"],
        "note": "the first webhook of a container also reads the webhook secret (cached 300 s)",
    }
    return rows
