"""`switchboard messages get --provider P --id ID`: one stored message and its status records, as JSON."""

from __future__ import annotations

import argparse
from typing import Any

from switchboard.dal.events_table import EventsTable

from switchboard_ops.cli import aws
from switchboard_ops.cli.output import CliError, print_json
from switchboard_ops.cli.target import add_target_arguments, resolve

NOT_FOUND = 1


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("messages", help="stored messages")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    get = actions.add_parser(
        "get",
        help="print a stored message and its status records as JSON",
        description="Prints {provider, provider_message_id, pk, message, statuses} as JSON; "
        "exits 1 (JSON error on stderr) when nothing is stored under that id.",
    )
    get.add_argument(
        "--provider", required=True, help="twilio, openphone, ghl, unipile, smartlead, instantly"
    )
    get.add_argument("--id", required=True, dest="message_id", help="the provider's message id")
    add_target_arguments(get)
    get.set_defaults(run=get_message, json_errors=True)


def lookup(table: EventsTable, provider: str, message_id: str) -> dict[str, Any] | None:
    """The message (sk MESSAGE) and its status records (sk STATUS#...) under one key, by one query."""
    pk = f"EVT#{provider}#{message_id}"
    with aws.translated("read the events table"):
        items = table.query_partition(pk)
    if not items:
        return None
    message = next((item for item in items if item["sk"] == "MESSAGE"), None)
    statuses = sorted(
        (item for item in items if str(item["sk"]).startswith("STATUS#")),
        key=lambda item: (item.get("received_at", 0), item["sk"]),
    )
    return {
        "provider": provider,
        "provider_message_id": message_id,
        "pk": pk,
        "message": message,
        "statuses": statuses,
    }


def get_message(args: argparse.Namespace) -> int:
    target = resolve(args)
    table = EventsTable(target.table_name, dynamodb=target.client("dynamodb"))
    found = lookup(table, args.provider, args.message_id)
    if found is None:
        raise CliError(
            f"no message {args.message_id} from {args.provider} in {target.table_name}",
            error="not_found",
            exit_code=NOT_FOUND,
        )
    print_json(found)
    return 0
