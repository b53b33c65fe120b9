"""`.venv/bin/python -m bench.replies [--quick] [--json] [--latency S] [--output ...]`.

The reply loop (services/worker.py: LLM classifier, two-step draft, auto-send enqueue) against the rules
classifier + template draft measured in the same run, every figure reported as ours / baseline:
1. jobs per second with the sandbox's model answering `--latency` seconds late (0.8 by default: the full
   latency, not scaled), against worker concurrency 1, 2, 4, 8 (threads in-process, AWS = moto);
2. AWS calls per auto-replied job, and per the same job with auto-send off;
3. cost per 1,000 replies: the AI usage records' cost_usd summed / jobs x 1000, with the price table.
Writes a table to stdout (or, with --json, the JSON document) and bench/results/replies-latest.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bench.ingest.common import RESULTS_DIR, Figure, isolate_environment, progress
from bench.report import publish

CONCURRENCIES = (1, 2, 4, 8)
MODEL_CALLS_PER_JOB = 3
RULES = "rules classifier + template (no model)"


def figures(measured: dict[str, Any], latency: float) -> list[Figure]:
    out = []
    for concurrency, sides in measured["throughput"].items():
        llm, rules = sides["llm"]["jobs_per_s"], sides["rules"]["jobs_per_s"]
        # What the model's latency alone allows: every job waits for three answers in a row.
        ceiling = concurrency / (MODEL_CALLS_PER_JOB * latency) if latency else None
        out.append(
            Figure(
                key=f"throughput.concurrency_{concurrency}",
                title=f"jobs/s, {concurrency} worker thread{'s' if concurrency > 1 else ''}",
                unit="jobs/s",
                ours=round(llm, 2),
                baseline=round(rules, 2),
                target="info (the model's latency bounds it)",
                passed=None,
                baseline_name=RULES,
                detail={
                    **sides,
                    "latency_bound_jobs_per_s": ceiling,
                    "share_of_latency_bound": round(llm / ceiling, 3) if ceiling else None,
                },
            )
        )
    calls = measured["calls"]
    for side, name in (("llm", "LLM"), ("rules", "rules")):
        on, off = calls[side]["auto_send"], calls[side]["no_auto_send"]
        out.append(
            Figure(
                key=f"aws_calls.auto_replied_job.{side}",
                title=f"AWS calls / auto-replied job ({name})",
                unit="calls",
                ours=round(on["mean"], 3),
                baseline=round(off["mean"], 3),
                target="info (what auto-send adds: detail)",
                passed=None,
                baseline_name="the same job, auto-send off",
                detail={
                    "added_by_auto_send": added_calls(on, off),
                    "auto_send": _without_usage(on),
                    "no_auto_send": _without_usage(off),
                },
            )
        )
    llm, rules = calls["llm"]["auto_send"], calls["rules"]["auto_send"]
    out.append(
        Figure(
            key="cost.per_1000_replies",
            title="USD / 1,000 replies (AI usage records)",
            unit="USD",
            ours=round(_cost(llm), 4),
            baseline=round(_cost(rules), 4),
            target="info",
            passed=None,
            baseline_name=RULES,
            detail={"jobs": llm["jobs"], "model_calls": llm["model_calls"], "tokens": _tokens(llm["usage"])},
        )
    )
    return out


def added_calls(on: dict[str, Any], off: dict[str, Any]) -> dict[str, float]:
    """Calls per job by operation that auto-send adds (the suppression read, the conversation read a
    template draft otherwise skips, the SendMessage)."""
    names = sorted(set(on["per_job_operations"]) | set(off["per_job_operations"]))
    added = {
        name: round(on["per_job_operations"].get(name, 0.0) - off["per_job_operations"].get(name, 0.0), 3)
        for name in names
    }
    return {name: n for name, n in added.items() if n}


def _cost(entry: dict[str, Any]) -> float:
    from bench.replies.run import cost_per_thousand

    return cost_per_thousand(entry["usage"], entry["jobs"])


def _tokens(usage: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "input": sum(int(call["input_tokens"]) for call in usage),
        "output": sum(int(call["output_tokens"]) for call in usage),
    }


def _without_usage(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "usage"}


def price_table() -> dict[str, Any]:
    from bench.replies.run import MODEL
    from switchboard.models.ai_usage import DEFAULT_PRICES

    return {"model": MODEL, "usd_per_million_tokens": DEFAULT_PRICES[MODEL].model_dump()}


def render(doc: dict[str, Any]) -> str:
    from bench import report

    prices = doc["price_table"]
    per_m = prices["usd_per_million_tokens"]
    extra = [
        f"Model latency: {doc['llm_latency_s']} s per call (sandbox llm_latency, not scaled); "
        f"{doc['jobs_per_level']} positive replies per concurrency level and side,"
        " one record per invocation.",
        f"Price table: {prices['model']} ${per_m['input']}/M input, ${per_m['output']}/M output tokens "
        f"(checked {per_m['verified_at']}; {per_m['source']}).",
        "",
    ]
    for figure in doc["figures"]:
        detail = figure["detail"]
        if detail.get("latency_bound_jobs_per_s"):
            extra.append(
                f"{figure['title']}: model jobs/s = {detail['share_of_latency_bound']:.0%} of the latency"
                f" bound (threads / (3 x latency) = {detail['latency_bound_jobs_per_s']:.2f})"
            )
        elif "added_by_auto_send" in detail:
            added = ", ".join(f"{op} {report.number(n)}" for op, n in detail["added_by_auto_send"].items())
            extra.append(f"{figure['title']}: auto-send adds {added} per job")
        elif "tokens" in detail:
            jobs, tokens = detail["jobs"], detail["tokens"]
            extra.append(
                f"{figure['title']}: {figure['ours']} USD; per reply {tokens['input'] / jobs:g} input"
                f" + {tokens['output'] / jobs:g} output tokens over {MODEL_CALLS_PER_JOB} calls"
                " (the sandbox's token counts)"
            )
    extra += [
        "The threads share one Python process and one in-process moto (AWS calls one at a time): the rules",
        "side cannot gain from threads here, and the model side's gap to its bound is that shared CPU.",
        "",
    ]
    return report.table(doc, extra=extra, default_baseline=None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.replies", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="few jobs: a smoke test, not figures")
    parser.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    parser.add_argument("--latency", type=float, default=0.8, help="seconds before each model answer")
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "replies-latest.json", help="where the JSON goes"
    )
    args = parser.parse_args(argv)
    isolate_environment()  # before anything reads the environment

    from bench import report
    from bench.replies.run import measure

    jobs_per_level, call_jobs = (4, 5) if args.quick else (16, 40)
    progress(f"reply loop: {jobs_per_level} jobs per level, model latency {args.latency} s, moto in-process")
    measured = measure(
        llm_latency=args.latency,
        concurrencies=CONCURRENCIES,
        jobs_per_level=jobs_per_level,
        call_jobs=call_jobs,
    )
    doc = report.document(
        "replies",
        figures(measured, args.latency),
        quick=args.quick,
        argv=argv,
        sections={
            "llm_latency_s": args.latency,
            "jobs_per_level": jobs_per_level,
            "price_table": price_table(),
        },
    )
    return publish(doc, args.output, as_json=args.json, render=render)


if __name__ == "__main__":
    sys.exit(main())
