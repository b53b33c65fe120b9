"""`switchboard status`: the stack's resources and each queue's depth (visible, in flight, delayed)."""

from __future__ import annotations

import argparse
from typing import Any

from switchboard_ops.cli import aws
from switchboard_ops.cli.output import add_json_flag, print_json, table
from switchboard_ops.cli.target import Target, add_target_arguments, resolve


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status",
        help="resources and queue depths",
        description="The table, secret, topic and every queue with its depth; dead-letter queues flagged.",
    )
    add_json_flag(parser)
    add_target_arguments(parser)
    parser.set_defaults(run=show_status)


def collect(target: Target) -> dict[str, Any]:
    depths = aws.queue_depths(target.client("sqs"), target.queues)
    logical_by_arn = {depth.arn: depth.logical_id for depth in depths}
    dead_letter_arns = {depth.redrive_to_arn for depth in depths if depth.redrive_to_arn}
    queues = {
        depth.logical_id: {
            "url": depth.url,
            "visible": depth.visible,
            "in_flight": depth.in_flight,
            "delayed": depth.delayed,
            "dead_letter": depth.arn in dead_letter_arns,
            "redrive_to": logical_by_arn.get(depth.redrive_to_arn or "", depth.redrive_to_arn),
            "max_receive_count": depth.max_receive_count,
        }
        for depth in depths
    }
    return {
        "target": target.name,
        "region": target.region,
        "aws_endpoint_url": target.endpoint_url,
        "api_url": target.api_url,
        "table": target.table_name,
        "secrets": target.secrets,
        "topics": target.topics,
        "queues": queues,
    }


def render(status: dict[str, Any]) -> str:
    where = status["aws_endpoint_url"] or "AWS"
    lines = [f"Switchboard {status['target']} stack ({where}, {status['region']})"]
    if status["api_url"]:
        lines.append(f"API: {status['api_url']}")
    resources = [("table", "EventsTable", status["table"])]
    resources += [("secret", logical_id, arn) for logical_id, arn in status["secrets"].items()]
    resources += [("topic", logical_id, arn) for logical_id, arn in status["topics"].items()]
    lines += ["", table(["RESOURCE", "LOGICAL ID", "NAME / ARN"], resources), ""]
    rows = []
    ordered = sorted(status["queues"].items(), key=lambda item: (item[1]["dead_letter"], item[0]))
    for logical_id, queue in ordered:
        if queue["dead_letter"]:
            waiting = queue["visible"] + queue["in_flight"] + queue["delayed"]
            note = "DLQ" + (" - messages waiting: switchboard dlq list / dlq redrive" if waiting else "")
        elif queue["redrive_to"]:
            note = f"-> {queue['redrive_to']} after {queue['max_receive_count']} receives"
        else:
            note = ""
        rows.append([logical_id, queue["visible"], queue["in_flight"], queue["delayed"], note])
    lines.append(table(["QUEUE", "VISIBLE", "IN FLIGHT", "DELAYED", ""], rows, numeric=(1, 2, 3)))
    return "\n".join(lines)


def show_status(args: argparse.Namespace) -> int:
    status = collect(resolve(args))
    if args.as_json:
        print_json(status)
    else:
        print(render(status))
    return 0
