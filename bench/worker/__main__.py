"""`make bench-worker` / `.venv/bin/python -m bench.worker [--quick] [--json] [--only ...] [--output ...]`.

WorkerFunction against a baseline measured in the same run, every figure reported as ours / baseline:
1. jobs per second through the handler, AWS answered by moto in-process (vs the same pipeline wrapped in
   Powertools `@idempotent_function`), with moto as shipped and with moto's per-transaction whole-table
   copy replaced by a per-item snapshot;
2. AWS calls per processed job and per redelivered job, with the breakdown by operation and by kind.
Plus a profile (not a figure) of where each handler's time goes. Writes a table to stdout (or, with
--json, the JSON document) and bench/results/worker-latest.json. Progress goes to stderr. Exits 0 even
when a target is missed; the table and JSON say which.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.ingest.common import RESULTS_DIR, isolate_environment
from bench.report import publish

FIGURES = ("throughput", "calls", "profile")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.worker", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="few jobs: a smoke test, not figures")
    parser.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    parser.add_argument(
        "--only", choices=FIGURES, action="append", help="run only this part (repeatable; default: all)"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "worker-latest.json", help="where the JSON goes"
    )
    args = parser.parse_args(argv)
    isolate_environment()  # before anything reads the environment

    from bench.worker import calls, hotspots, report, throughput

    selected = args.only or list(FIGURES)
    figures, sections = [], {}
    if "throughput" in selected:
        rows, sections["time_breakdown_ms_per_job"] = throughput.figures(args.quick)
        figures += rows
    if "calls" in selected:
        figures += calls.figures(args.quick)
    if "profile" in selected:
        sections["profile"] = hotspots.hotspots(args.quick)

    doc = report.document(figures, sections, quick=args.quick, argv=argv)
    return publish(doc, args.output, as_json=args.json, render=report.table)


if __name__ == "__main__":
    sys.exit(main())
