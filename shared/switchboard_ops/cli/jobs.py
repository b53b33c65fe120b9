"""`switchboard jobs stats`: every stored job by state, provider and kind (a table scan: an operator's
report, not something to run every second against a large table)."""

from __future__ import annotations

import argparse
from typing import Any

from switchboard.dal.job_records import scan_job_states
from switchboard.services.job_stats import job_stats
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import add_json_flag, print_json, table
from switchboard_ops.cli.target import add_target_arguments, resolve

COLUMNS = (
    ("TOTAL", "total"),
    ("PENDING", "pending"),
    ("PROCESSING", "processing"),
    ("PROCESSED", "processed"),
    ("EXHAUSTED", "exhausted"),
    ("RECOVERED", "recovered"),
    ("AVG ATTEMPTS", "average_attempts"),
    ("MAX ATTEMPTS", "max_attempts"),
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("jobs", help="processing jobs")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    stats = actions.add_parser(
        "stats",
        help="jobs by state, provider and kind",
        description="Totals of every stored job: pending (received, or failed and waiting for its retry), "
        "processing, processed, exhausted (dead-lettered), recovered (processed after a redrive), and "
        "average / max attempts; then the same by provider and by kind. Scans the events table.",
    )
    add_json_flag(stats)
    add_target_arguments(stats)
    stats.set_defaults(run=show_stats)


def _row(name: str, summary: dict[str, Any]) -> list[Any]:
    return [name, *(summary[key] for _, key in COLUMNS)]


def render(stats: dict[str, Any]) -> str:
    headers = [label for label, _ in COLUMNS]
    numeric = tuple(range(1, len(COLUMNS) + 1))
    lines = [f"Jobs in {stats['table']}", "", table(["ALL", *headers], [_row("all", stats)], numeric=numeric)]
    for title, key in (("PROVIDER", "by_provider"), ("KIND", "by_kind")):
        rows = [_row(name, summary) for name, summary in stats[key].items()]
        if rows:
            lines += ["", table([title, *headers], rows, numeric=numeric)]
    return "\n".join(lines)


def show_stats(args: argparse.Namespace) -> int:
    target = resolve(args)
    with aws.translated("scan the events table"):
        stats = job_stats(scan_job_states(target.table_name, dynamodb=target.client("dynamodb")))
    stats = {"table": target.table_name, **stats}
    if args.as_json:
        print_json(stats)
    else:
        print(render(stats))
    return 0
