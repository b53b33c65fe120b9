"""`switchboard alerts list`: what AlertsTopic published, as the local stack's inbox queue holds it.

A deployed stack e-mails its alerts (the AlertEmail parameter's subscription); the local stack subscribes
an SQS queue (switchboard-local-alerts-inbox) to the topic instead. Listing leaves every alert in place:
each is held for a moment and released, as `dlq list` does, so two listings at the same instant may
each see part of them. Alerts are kept for SQS's retention (4 days) or until the stack stops.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from switchboard.dal.dead_letters import DeadLetter, DeadLetterQueue
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import CliError, add_json_flag, print_json, table
from switchboard_ops.cli.target import Target, add_target_arguments, resolve

MESSAGE_WIDTH = 80


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("alerts", help="alerts published to AlertsTopic (local stack)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="the alerts the local stack received, oldest first, left in place",
        description="Time, subject and message of every alert published to AlertsTopic, from the local "
        "stack's inbox queue (not consumed). A deployed stack sends its alerts by e-mail to the AlertEmail "
        "subscription instead; there is nothing to list there.",
    )
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    add_json_flag(listing)
    add_target_arguments(listing)
    listing.set_defaults(run=list_alerts)


def describe(letter: DeadLetter) -> dict[str, Any]:
    """An SNS notification as delivered to SQS (not raw): its subject, message, time and topic."""
    try:
        notification = json.loads(letter.body)
    except ValueError:
        notification = None
    if not isinstance(notification, dict):
        notification = {"Message": letter.body}
    return {
        "time": notification.get("Timestamp"),
        "subject": notification.get("Subject"),
        "message": notification.get("Message"),
        "topic": notification.get("TopicArn"),
        "message_id": notification.get("MessageId") or letter.message_id,
    }


def collect(target: Target, limit: int) -> list[dict[str, Any]]:
    url = target.state.get("alerts_queue_url")
    if not target.is_local:
        topic = target.topics.get("AlertsTopic", "AlertsTopic")
        raise CliError(
            f"a deployed stack sends its alerts by e-mail: the AlertEmail parameter subscribes an address to "
            f"{topic} (`aws sns list-subscriptions-by-topic --topic-arn {topic}`); `alerts list` reads the "
            "local stack's inbox only",
            error="not_supported",
        )
    if not url:
        raise CliError("the running local stack has no alerts inbox (an older version?); restart it")
    inbox = DeadLetterQueue(url, source_url="", sqs=target.client("sqs"))
    with aws.translated("read the alerts inbox"):
        letters = inbox.list(limit=max(1, limit))
    return sorted((describe(letter) for letter in letters), key=lambda alert: alert["time"] or "")


def _cell(value: Any, width: int | None = None) -> str:
    text = "-" if value in (None, "") else " ".join(str(value).split())
    return text if width is None or len(text) <= width else text[: width - 3] + "..."


def render(alerts: list[dict[str, Any]]) -> str:
    if not alerts:
        return "No alerts."
    rows = [[_cell(a["time"]), _cell(a["subject"]), _cell(a["message"], MESSAGE_WIDTH)] for a in alerts]
    count = f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
    return f"{count}\n\n" + table(["TIME", "SUBJECT", "MESSAGE"], rows)


def list_alerts(args: argparse.Namespace) -> int:
    alerts = collect(resolve(args), args.limit)
    if args.as_json:
        print_json({"count": len(alerts), "alerts": alerts})
    else:
        print(render(alerts))
    return 0
