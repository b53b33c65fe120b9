"""`switchboard ai usage --days N`: model calls, failures, tokens and cost by feature and model, from the
usage records the worker stores (one Query per day; no scan)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from switchboard.dal.ai_usage import AiUsageRecords
from switchboard.services.ai_usage import usage_report
from switchboard_ops.cli import aws
from switchboard_ops.cli.arguments import days_back
from switchboard_ops.cli.output import add_json_flag, print_json, table
from switchboard_ops.cli.target import add_target_arguments, resolve

COLUMNS = (
    ("CALLS", "calls"),
    ("FAILED", "failures"),
    ("TOKENS IN", "input_tokens"),
    ("TOKENS OUT", "output_tokens"),
    ("COST USD", "cost_usd"),
    ("AVG MS", "average_latency_ms"),
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("ai", help="AI model calls: usage and cost")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    usage = actions.add_parser(
        "usage",
        help="model calls, failures, tokens and cost by feature and model",
        description="Every model call the worker made in the last N UTC days (today included): calls, "
        "failed calls (the rules or the template answered instead), input/output tokens, cost in USD from "
        "the price table in the worker's settings, and average latency; by feature and by model.",
    )
    usage.add_argument(
        "--days", type=days_back, default=7, help="how many days back, today included (default 7)"
    )
    add_json_flag(usage)
    add_target_arguments(usage)
    usage.set_defaults(run=show_usage)


def _row(name: str, summary: dict[str, Any]) -> list[Any]:
    return [name, *(f"{summary[key]:.6f}" if key == "cost_usd" else summary[key] for _, key in COLUMNS)]


def render(report: dict[str, Any]) -> str:
    headers = [label for label, _ in COLUMNS]
    numeric = tuple(range(1, len(COLUMNS) + 1))
    lines = [
        f"AI usage in {report['table']}, {report['days']} day(s) since {report['since']} (UTC)",
        "",
        table(["ALL", *headers], [_row("all", report)], numeric=numeric),
    ]
    for title, key in (("FEATURE", "by_feature"), ("MODEL", "by_model")):
        rows = [_row(name, summary) for name, summary in report[key].items()]
        if rows:
            lines += ["", table([title, *headers], rows, numeric=numeric)]
    if report["unpriced_calls"]:
        lines += ["", f"{report['unpriced_calls']} call(s) to models missing from LLM_PRICES cost 0 here."]
    return "\n".join(lines)


def show_usage(args: argparse.Namespace) -> int:
    target = resolve(args)
    records = AiUsageRecords(target.table_name, dynamodb=target.client("dynamodb"))
    with aws.translated("query the events table"):
        report = usage_report(lambda day: list(records.calls_on(day)), args.days, time.time())
    report = {"table": target.table_name, **report}
    if args.as_json:
        print_json(report)
    else:
        print(render(report))
    return 0
