"""`.venv/bin/python -m bench.reminders [--count N] [--quick] [--json] [--output ..]`.

ReminderDispatcherFunction's service with N reminders (default 20,000) due in the same minute, written
straight into a moto table, against a one-at-a-time dispatcher measured in the same run:
1. dispatcher AWS calls per reminder (target <= 0.2) vs the one-at-a-time dispatcher;
2. end to end (dispatcher + sender, without the provider's status callbacks), calls per reminder;
3. time from the tick to the last enqueued (in-process moto; informational);
4. duplicates after the dispatcher is killed right after a SendMessageBatch (before its claim) and run
   again: copies on the queue (expected), and provider calls beyond one per send key (must be 0).
Writes a table to stdout (or, with --json, the JSON document) and bench/results/reminders-latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from bench.ingest.common import RESULTS_DIR, Figure, isolate_environment, quiet_stdout
from bench.report import publish

BASELINE_NAME = "one-at-a-time dispatcher (GetItem each, SendMessage, UpdateItem)"
SENDER_SAMPLE = 200  # the sender's calls per reminder do not depend on N: measured on a sample


def measure(count: int, baseline_count: int) -> tuple[list[Figure], dict[str, Any]]:
    from bench.reminders import harness

    print(f"seeding {count} due reminders ...", file=sys.stderr)
    with harness.reminder_stack() as resources:
        harness.seed(resources, count)
        ours = harness.measure_dispatch(resources)
        bodies = harness.drain(resources)
        sample = harness.send(resources, bodies[:SENDER_SAMPLE])
        print("killed mid-batch, then rerun ...", file=sys.stderr)
        harness.seed(resources, count, reminders_only=True, version=2)  # every reminder due again
        kill_after = max(1, count // 20)  # half-way through the SendMessageBatch calls
        killed = harness.KilledAfter(harness.OutboundQueue(resources.queues["OutboundQueue"]), kill_after)
        with contextlib.suppress(SystemExit):  # the kill: the rest of that run never happens
            harness.dispatcher(resources, killed).run()
        rerun = harness.dispatcher(resources).run().as_dict()
        queued = harness.drain(resources)
        keys = [json.loads(body)["send_key"] for body in queued]
        copies = len(keys) - len(set(keys))
        twice = {key for key, n in Counter(keys).items() if n > 1}
        dup_bodies = [body for body, key in zip(queued, keys, strict=True) if key in twice]
        dedup = harness.send(resources, dup_bodies)
        extra_provider_calls = sum(max(0, n - 1) for n in dedup["provider_calls"].values())
    print(f"baseline over {baseline_count} ...", file=sys.stderr)
    with harness.reminder_stack() as resources:
        harness.seed(resources, baseline_count)
        started = time.perf_counter()
        baseline = harness.measure_baseline(resources)
        baseline_seconds = time.perf_counter() - started
    per = ours["calls"] / count
    base_per = baseline["calls"] / baseline["sent"]
    sender_per = sample["calls"] / max(1, len(bodies[:SENDER_SAMPLE]))
    figures = [
        Figure(
            "dispatch_calls",
            "dispatcher AWS calls per reminder",
            "calls",
            round(per, 4),
            round(base_per, 4),
            "<= 0.2",
            per <= 0.2,
            BASELINE_NAME,
            {
                "reminders": count,
                "calls": ours["calls"],
                "by_operation": ours["by_operation"],
                "baseline_by_operation": baseline["by_operation"],
            },
        ),
        Figure(
            "end_to_end_calls",
            "end to end AWS calls per reminder (dispatch + send)",
            "calls",
            round(per + sender_per, 4),
            round(base_per + sender_per, 4),
            "report",
            None,
            BASELINE_NAME,
            {
                "sender_sample": len(bodies[:SENDER_SAMPLE]),
                "sender_by_operation": sample["by_operation"],
                "sender_outcomes": sample["outcomes"],
            },
        ),
        Figure(
            "tick_to_last_enqueued",
            "tick to last enqueued (in-process moto)",
            "s",
            round(ours["seconds"], 2),
            round(baseline_seconds / baseline["sent"] * count, 2),
            "report",
            None,
            BASELINE_NAME + ", extrapolated to N",
            {"enqueued": ours["report"]["enqueued"], "claimed": ours["report"]["claimed"]},
        ),
        Figure(
            "duplicates_after_kill",
            "provider sends beyond one per reminder after kill + rerun",
            "sends",
            extra_provider_calls,
            0,
            "0",
            extra_provider_calls == 0,
            "none expected",
            {
                "killed_after_batches": kill_after,
                "rerun": rerun,
                "queue_copies": copies,
                "copies_sent_through_the_sender": len(dup_bodies),
                "sender_outcomes": dedup["outcomes"],
            },
        ),
    ]
    return figures, {"reminders": count, "baseline_reminders": baseline["sent"]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.reminders", description=__doc__.split("\n\n")[1])
    parser.add_argument("--count", type=int, default=20_000, help="reminders due in the minute")
    parser.add_argument("--quick", action="store_true", help="200 reminders: a smoke test")
    parser.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "reminders-latest.json")
    args = parser.parse_args(argv)
    isolate_environment()
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from bench import report

    count = 200 if args.quick else args.count
    with quiet_stdout():  # the services' log lines and metrics are still written, to /dev/null
        figures, sections = measure(count, min(count, 2_000))
    doc = report.document("reminders", figures, quick=args.quick, argv=argv, sections=sections)
    return publish(
        doc, args.output, as_json=args.json, render=lambda d: report.table(d, default_baseline=None)
    )


if __name__ == "__main__":
    sys.exit(main())
