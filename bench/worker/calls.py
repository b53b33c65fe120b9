"""Figure 2: AWS calls per processed job, and per redelivered (already processed) job.

Counted by bench.ingest.common.CallCounter (every botocore API call, by `service.Operation`), around the
handler invocation only: the poller's ReceiveMessage / DeleteMessageBatch are Lambda's, the same for both
workers, and reported apart. Both workers run against the same in-process moto, warmed by a drain each.

- the mix: the same seeded jobs (bench/worker/mix.py) drained in batches of 10: calls per job and the
  breakdown by operation;
- by kind of job: a second seeded mix, received 10 at a time but handed to the handler one record per
  invocation, so every call is attributed to its job (neither handler makes calls per batch);
- redelivered: jobs of processed records sent again (an SQS redelivery, a redrive): what each worker
  spends to find out there is nothing left to do.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from bench.ingest.common import REGION, CallCounter, Figure, progress, quiet_stdout
from bench.worker import mix
from bench.worker.common import SIDES, WorkerContext, drain, seed, set_up_workers

WARM_UP = 10


def _per_job(counter: CallCounter, jobs: int) -> dict[str, Any]:
    return {
        "jobs": jobs,
        "calls": counter.count,
        "mean": counter.count / jobs,
        "per_job_operations": {name: number / jobs for name, number in counter.by_operation().items()},
    }


def _one_record_at_a_time(side: Any, sqs: Any, context: Any, kinds: dict[str, str]) -> dict[str, Counter]:
    """Drain the queue handing the handler one record per invocation; calls by kind of job."""
    from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event

    by_kind: dict[str, Counter] = defaultdict(Counter)
    jobs: Counter = Counter()
    while messages := receive_batch(sqs, side.queue_url):
        for message in messages:
            with CallCounter() as counter:
                response = side.handler(sqs_event([message], side.queue_arn), context)
            if response.get("batchItemFailures"):
                raise RuntimeError(f"{side.name}: job failed: {response}")
            kind = kinds[json.loads(message["Body"])["pk"]]
            by_kind[kind].update(counter.calls)
            jobs[kind] += 1
            delete_succeeded(sqs, side.queue_url, [message], response)
    return {kind: {"jobs": jobs[kind], "operations": by_kind[kind]} for kind in jobs}  # type: ignore[misc]


def measure(jobs: int, per_kind_jobs: int, redeliveries: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from switchboard.dal.jobs_queue import JobsQueue
    from switchboard.models import Job

    context = WorkerContext()
    result: dict[str, Any] = {side: {} for side in SIDES}
    with mock_aws(), quiet_stdout():
        workers = set_up_workers(boto3.Session(region_name=REGION))
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        warm = mix.generate(WARM_UP, seed=11, start_at=mix.START_AT - 86_400)
        seeds = mix.generate(jobs)
        by_kind_seeds = mix.generate(per_kind_jobs, seed=8, start_at=mix.START_AT + 86_400)
        kinds = {}
        for item in by_kind_seeds:
            kinds[f"EVT#{item.event.provider}#{item.event.provider_message_id}"] = item.kind
        for name, side in workers.sides().items():
            seed(side, warm, dynamodb, sqs)
            drain(side, sqs, context)

            keys = seed(side, seeds, dynamodb, sqs)
            handler_calls, poller_calls = CallCounter(), CallCounter()
            with poller_calls:
                polls = drain(side, sqs, context, around_handler=handler_calls)
            processed = sum(p.jobs for p in polls)
            result[name]["mix"] = _per_job(handler_calls, processed)
            poller_only = Counter(poller_calls.calls) - Counter(handler_calls.calls)
            result[name]["poller_calls_per_job"] = {
                op: n / processed for op, n in sorted(poller_only.items())
            }

            queue = JobsQueue(side.queue_url, sqs)
            for item, key in list(zip(seeds, keys, strict=True))[:redeliveries]:
                queue.enqueue_job(
                    Job(
                        **key,
                        provider=item.event.provider,
                        kind=item.event.kind,
                        provider_message_id=item.event.provider_message_id,
                        source="redrive",
                    )
                )
            again = CallCounter()
            redelivered = sum(p.jobs for p in drain(side, sqs, context, around_handler=again))
            result[name]["redelivered"] = _per_job(again, redelivered)

            seed(side, by_kind_seeds, dynamodb, sqs)
            result[name]["by_kind"] = _one_record_at_a_time(side, sqs, context, kinds)
    return result


def figures(quick: bool) -> list[Figure]:
    jobs, per_kind_jobs, redeliveries = (60, 100, 10) if quick else (300, 400, 50)
    progress(
        f"AWS calls: {jobs} mixed jobs in batches of 10, {per_kind_jobs} one at a time by kind, "
        f"{redeliveries} redelivered, per worker (moto in-process)"
    )
    measured = measure(jobs, per_kind_jobs, redeliveries)
    ours, base = measured["ours"], measured["baseline"]
    by_kind = {
        kind: {
            name: {
                "jobs": measured[name]["by_kind"][kind]["jobs"],
                "mean": sum(measured[name]["by_kind"][kind]["operations"].values())
                / measured[name]["by_kind"][kind]["jobs"],
                "per_job_operations": {
                    op: n / measured[name]["by_kind"][kind]["jobs"]
                    for op, n in sorted(measured[name]["by_kind"][kind]["operations"].items())
                },
            }
            for name in SIDES
        }
        for kind in mix.KINDS
        if kind in ours["by_kind"]
    }
    return [
        Figure(
            key="aws_calls.processed_job",
            title="AWS calls / processed job (the mix)",
            unit="calls",
            ours=round(ours["mix"]["mean"], 3),
            baseline=round(base["mix"]["mean"], 3),
            target="ours < baseline",
            passed=ours["mix"]["mean"] < base["mix"]["mean"],
            detail={
                "ours": ours["mix"],
                "baseline": base["mix"],
                "by_kind_of_job": by_kind,
                "poller_calls_per_job_not_counted": {
                    name: measured[name]["poller_calls_per_job"] for name in SIDES
                },
            },
        ),
        Figure(
            key="aws_calls.redelivered_job",
            title="AWS calls / redelivered job (already processed)",
            unit="calls",
            ours=round(ours["redelivered"]["mean"], 3),
            baseline=round(base["redelivered"]["mean"], 3),
            target="ours <= baseline",
            passed=ours["redelivered"]["mean"] <= base["redelivered"]["mean"],
            detail={"ours": ours["redelivered"], "baseline": base["redelivered"]},
        ),
    ]
