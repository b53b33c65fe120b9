"""`make bench-outbound` / `.venv/bin/python -m bench.outbound [--quick] [--json] [--only ...] [--output ..]`.

SenderFunction and HealthCheckFunction against baselines measured in the same run, as ratios:
1. sends per second at a provider's rate limit with zero 429s: two pollers, each with a Sender wired as
   in production (SENDER_CONCURRENCY=2), draining a burst through the real send_openphone / send_twilio
   to the in-process sandbox provider (vs the limit itself; and vs a naive sender without the token
   bucket, which takes 429s); plus, informational, the same at a realistic provider round trip;
2. health check detection: start -> failure alert with the loop broken (sandbox drop_rate 1.0), the real
   handler against moto with the 120 s timeout scaled by 1/60 (vs the timeout itself);
3. broken-loop detection from real traffic: status callbacks stop (sandbox callback_drop_rate 1) ->
   CallbacksOverdueAlarm, clocks x60 (vs the hourly canary's worst case, measured in the same run).
Writes a table to stdout (or, with --json, the JSON document) and bench/results/outbound-latest.json.
Progress goes to stderr. Exits 0 even when a target is missed; the table and JSON say which.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from bench.ingest.common import RESULTS_DIR, Figure, isolate_environment
from bench.report import publish

FIGURES = ("openphone", "twilio", "latency", "health", "loop")
DEFAULT_TWILIO_RATE = 20.0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.outbound", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="small bursts, one broken check: a smoke test")
    parser.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    parser.add_argument(
        "--only", choices=FIGURES, action="append", help="run only this part (repeatable; default: all)"
    )
    parser.add_argument(
        "--twilio-rate",
        type=float,
        default=DEFAULT_TWILIO_RATE,
        help="the sandbox's (and the sender's) Twilio rate, requests/s. Default 20: production's 50 is"
        " above what one process with moto can drive (~35 sends/s on 2 cores)",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "outbound-latest.json", help="where the JSON goes"
    )
    args = parser.parse_args(argv)
    isolate_environment()  # before anything reads the environment
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    from bench.outbound import detection, loop_detection, report, throughput

    selected = args.only or list(FIGURES)
    figures: list[Figure] = []
    sections: dict[str, Any] = {}
    if "openphone" in selected:
        figures += throughput.figures_for("openphone", 10.0, 40 if args.quick else 200)
    if "twilio" in selected:
        figures += throughput.figures_for("twilio", args.twilio_rate, 50 if args.quick else 200)
    if "latency" in selected:
        figures += throughput.latency_figure(args.quick)
    if "health" in selected:
        rows, sections = detection.figures(args.quick)
        figures += rows
    if "loop" in selected:
        rows, loop_sections = loop_detection.figures(args.quick)
        figures += rows
        sections = {**sections, **loop_sections}

    doc = report.document(figures, sections, quick=args.quick, argv=argv)
    return publish(doc, args.output, as_json=args.json, render=report.table)


if __name__ == "__main__":
    sys.exit(main())
