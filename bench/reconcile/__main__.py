"""`make bench-reconcile` / `.venv/bin/python -m bench.reconcile [--quick] [--json] [--output ...]`.

A reconciliation run (issue #5, item 8): 20,000 OpenPhone messages over 48 h in the sandbox, listed at
OpenPhone's 10 requests/s and 100 per page (200 pages: a 20 s rate-limit floor), AWS answered by moto
in-process. Three scenarios: every message already stored; 10 % missing; 10 % missing with moto as the
local stack runs it (moto_patches: operations cost what they cost in AWS, not in proportion to the data
stored). Figures: wall time vs the
floor (target <= 1.2 x floor and <= 60 s), AWS calls per already-stored message (target <= 0.05), and
the backfilled count (exactly the missing ones). Writes a table to stdout (or, with --json, the JSON
document) and bench/results/reconcile-latest.json. Progress goes to stderr. Exits 0 even when a target
is missed; the table and JSON say which.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.ingest.common import RESULTS_DIR, isolate_environment
from bench.report import publish


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="2,000 messages (20 pages): a smoke test")
    parser.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "reconcile-latest.json", help="where the JSON goes"
    )
    args = parser.parse_args(argv)
    isolate_environment()  # before anything reads the environment

    from bench.reconcile import figures, report
    from bench.reconcile.run import RATE
    from switchboard_ops.sandbox import Sandbox

    # Webhooks go nowhere (drop_rate 1.0): seeding delivers none; the list API is limited at 10/s.
    with Sandbox("http://127.0.0.1:9", drop_rate=1.0, openphone_rate=RATE) as sandbox:
        outcomes = figures.measure(sandbox, quick=args.quick)
    sections = {"scenarios": [outcome.as_dict() for outcome in outcomes]}
    doc = report.document(figures.figures(outcomes), sections, quick=args.quick, argv=argv)
    return publish(doc, args.output, as_json=args.json, render=report.table)


if __name__ == "__main__":
    sys.exit(main())
