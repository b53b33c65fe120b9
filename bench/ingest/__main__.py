"""`make bench` / `.venv/bin/python -m bench.ingest [--quick] [--json]`.

IngestFunction against a baseline measured in the same run, every figure reported as ours / baseline:
1. AWS calls per new and per duplicate webhook (vs a Powertools idempotency handler);
2. handler time per webhook, AWS answered by moto in-process (vs the same Powertools-style handler);
3. cold import of the handler plus its AWS clients (vs `import boto3` and the same clients);
4. peak RSS after 1,000 webhooks, moto in another process (vs an interpreter with boto3 and the clients);
5. the stored item of a 255 KiB webhook (vs the item stored before issue 9), and the calls and time an
   oversized webhook costs over a normal one (`--only payload`);
6. only with `--only artifact`: the cold import of the deployed build, with its bytecode vs without it and vs
   bare boto3 from the same layer (runs `make build`: needs the SAM CLI and the network).
Writes a table to stdout (or, with --json, the JSON document) and bench/results/ingest-latest.json.
Progress goes to stderr. Exits 0 even when a target is missed; the table and JSON say which.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bench.ingest.common import RESULTS_DIR, Figure, isolate_environment
from bench.report import publish

FIGURES = ("calls", "latency", "cold_import", "memory", "payload")
ON_REQUEST = ("artifact",)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="few iterations: a smoke test, not figures")
    parser.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    parser.add_argument(
        "--only",
        choices=FIGURES + ON_REQUEST,
        action="append",
        help="run only this figure (repeatable; default: all but artifact)",
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "ingest-latest.json", help="where the JSON goes"
    )
    args = parser.parse_args(argv)
    isolate_environment()  # before anything reads the environment

    from bench.ingest import artifact, calls, cold_import, latency, memory, payload, report

    selected = args.only or list(FIGURES)
    figures: list[Figure] = []
    profile: dict[str, Any] = {}
    if "calls" in selected:
        figures += calls.figures(args.quick)
    if "latency" in selected:
        figures += latency.figures(args.quick)
    if "cold_import" in selected:
        rows, profile = cold_import.figures(args.quick)
        figures += rows
    if "memory" in selected:
        figures += memory.figures(args.quick)
    if "payload" in selected:
        figures += payload.figures(args.quick)
    if "artifact" in selected:
        figures += artifact.figures(args.quick)

    doc = report.document(figures, profile, quick=args.quick, argv=argv)
    return publish(doc, args.output, as_json=args.json, render=report.table)


if __name__ == "__main__":
    sys.exit(main())
