"""The figures: wall time vs the rate-limit floor, AWS calls per message, the exact backfill count."""

from __future__ import annotations

from typing import Any

from bench.ingest.common import Figure, progress
from bench.reconcile.run import RATE, reconcile_once, seed

FULL = {"messages": 20_000, "conversations": 10}  # 10 x 2,000: 200 pages of 100
QUICK = {"messages": 2_000, "conversations": 2}  # 2 x 1,000: 20 pages
MAX_RATIO = 1.2
MAX_WALL = 60.0
MAX_CALLS_PER_STORED = 0.05
FLOOR = "rate-limit floor (pages / 10 per s)"
NAIVE = "one read per message (1 call)"


def measure(sandbox: Any, *, quick: bool, rate: float = RATE, settle: bool = True) -> list[Any]:
    size = QUICK if quick else FULL
    progress(f"seeding the sandbox: {size['messages']} OpenPhone messages over 48 h")
    seeded = seed(sandbox, size["messages"], size["conversations"])
    progress(f"seeded in {seeded['seed_seconds']} s")
    return [
        reconcile_once(sandbox, seeded, scenario="all_stored", missing_every=None, rate=rate, settle=settle),
        reconcile_once(sandbox, seeded, scenario="missing_10pct", missing_every=10, rate=rate, settle=settle),
        reconcile_once(
            sandbox,
            seeded,
            scenario="missing_10pct_corrected_moto",
            missing_every=10,
            rate=rate,
            settle=settle,
            corrected_moto=True,
        ),
    ]


def figures(outcomes: list[Any]) -> list[Figure]:
    out: list[Figure] = []
    titles = {
        "all_stored": "all already stored",
        "missing_10pct": "10% missing",
        "missing_10pct_corrected_moto": "10% missing, moto as the local stack runs it",
    }
    for outcome in outcomes:
        name, detail = titles[outcome.scenario], outcome.as_dict()
        ratio = outcome.wall_seconds / outcome.floor_seconds if outcome.floor_seconds else float("inf")
        out.append(
            Figure(
                key=f"reconcile.{outcome.scenario}.wall_seconds",
                title=f"reconcile {outcome.messages} msgs, {name}: wall time",
                unit="s",
                ours=round(outcome.wall_seconds, 3),
                baseline=outcome.floor_seconds,
                target=f"<= {MAX_RATIO} x floor, <= {MAX_WALL:g} s",
                passed=ratio <= MAX_RATIO and outcome.wall_seconds <= MAX_WALL,
                baseline_name=FLOOR,
                detail=detail,
            )
        )
        out.append(
            Figure(
                key=f"reconcile.{outcome.scenario}.calls_per_stored_message",
                title=f"reconcile, {name}: AWS calls per already-stored msg",
                unit="calls/msg",
                ours=round(outcome.overhead_calls / outcome.messages, 5),
                baseline=1.0,
                target=f"<= {MAX_CALLS_PER_STORED}",
                passed=outcome.overhead_calls / outcome.messages <= MAX_CALLS_PER_STORED,
                baseline_name=NAIVE,
                detail={
                    "aws_calls": outcome.total_calls,
                    "aws_calls_storing_new": sum(outcome.store_calls.values()),
                    "by_operation": outcome.calls,
                    "note": "calls made while storing a missing message (put + enqueue) are excluded;"
                    " the existence checks, lock, run record and the stuck-job index queries are counted",
                },
            )
        )
        if outcome.expected_new:
            new = int(outcome.stats.get("new_messages", 0))
            out.append(
                Figure(
                    key=f"reconcile.{outcome.scenario}.new_messages",
                    title=f"reconcile, {name}: messages backfilled",
                    unit="msgs",
                    ours=new,
                    baseline=outcome.expected_new,
                    target=f"== {outcome.expected_new}",
                    passed=new == outcome.expected_new and not outcome.stats.get("errors"),
                    baseline_name="messages left out of the pre-store",
                    detail={"totals": outcome.stats},
                )
            )
            out.append(
                Figure(
                    key=f"reconcile.{outcome.scenario}.calls_per_message",
                    title=f"reconcile, {name}: AWS calls per listed msg (all)",
                    unit="calls/msg",
                    ours=round(outcome.total_calls / outcome.messages, 5),
                    baseline=1.0,
                    target="info",
                    passed=None,
                    baseline_name=NAIVE,
                    detail={"calls_per_new_message": detail["calls_per_new_message"]},
                )
            )
    return out
