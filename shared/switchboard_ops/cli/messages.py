"""`switchboard messages get --provider P --id ID`: one stored message, its job state and processing results
(intent, sentiment, consent, draft), its status records and merged delivery status, as JSON."""

from __future__ import annotations

import argparse
from typing import Any

from switchboard.dal.address_keys import AddressKeys
from switchboard.dal.contacts import AddressKeyedTable
from switchboard.dal.events_table import EventsTable
from switchboard.dal.raw_payloads import RawPayloads
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import JSON_EITHER_WAY, CliError, add_json_flag, print_json
from switchboard_ops.cli.target import add_target_arguments, address_keys, resolve

NOT_FOUND = 1


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("messages", help="stored messages")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    get = actions.add_parser(
        "get",
        help="print a stored message, its job state and its status records as JSON",
        description="Prints {provider, provider_message_id, pk, job_state, attempts, exhausted, recovered, "
        "last_error, intent, sentiment, classifier, consent, delivery_status, draft_status, suppressed, "
        "message, statuses, delivery, draft, suppression} as JSON (a calendar event adds versions and "
        "reminder): the top-level job fields come from the "
        "message record (or the latest status record), delivery/draft are the DELIVERY/DRAFT items under "
        "the same key, suppression the contact's opt-out record. Exits 1 (JSON error on stderr) when "
        "nothing is stored under that id.",
    )
    get.add_argument(
        "--provider",
        required=True,
        help="twilio, openphone, ghl, unipile, smartlead, instantly; calcom, calendly, calendar",
    )
    get.add_argument(
        "--id", required=True, dest="message_id", help="the provider's message id (a calendar's event id)"
    )
    add_json_flag(get, JSON_EITHER_WAY)
    add_target_arguments(get)
    get.set_defaults(run=get_message, json_errors=True)


# The job and processing fields `messages get` lifts to the top, read from the record that carries the job.
JOB_FIELDS = (
    "job_state",
    "attempts",
    "exhausted",
    "recovered",
    "last_error",
    "intent",
    "sentiment",
    "classifier",
    "classifier_fallback",
    "consent",
)


def _job(record: dict[str, Any] | None) -> dict[str, Any]:
    return {name: (record or {}).get(name) for name in JOB_FIELDS}


def _contact(message: dict[str, Any] | None) -> tuple[str, str] | None:
    """(channel, address) of the other party: the sender of an inbound message, else the recipient."""
    if not message:
        return None
    address = message.get("sender") if message.get("direction") == "inbound" else message.get("recipient")
    return (str(message.get("channel") or "other"), str(address)) if address else None


def lookup(
    table: EventsTable, provider: str, message_id: str, address_keys: AddressKeys | None = None
) -> dict[str, Any] | None:
    """Everything under the message's key in one query: the message (sk MESSAGE), its status records
    (STATUS#...), the merged delivery status (DELIVERY) and a drafted reply (DRAFT); plus the contact's
    opt-out record (SUPPRESSION#<channel>#<address's keyed hash>), by a second query."""
    pk = f"EVT#{provider}#{message_id}"
    with aws.translated("read the events table"):
        items = table.query_partition(pk)
    if not items:
        return None
    with aws.translated("read an oversized raw payload"):
        items = [table.raw_payloads.restore(item) for item in items]
    by_sk = {str(item["sk"]): item for item in items}
    message = by_sk.get("MESSAGE")
    statuses = sorted(
        (item for item in items if str(item["sk"]).startswith("STATUS#")),
        key=lambda item: (item.get("received_at", 0), item["sk"]),
    )
    delivery = by_sk.get("DELIVERY")
    draft = by_sk.get("DRAFT")
    # A calendar event's versions (CAL#<sortable version>) and its reminder live under the same key
    versions = [item for item in items if str(item["sk"]).startswith("CAL#")]
    reminder = by_sk.get("REMINDER")
    known = {"MESSAGE", "DELIVERY", "DRAFT", "REMINDER"}
    other = [
        item
        for item in items
        if str(item["sk"]) not in known and not str(item["sk"]).startswith(("STATUS#", "CAL#"))
    ]
    suppression = None
    contact = _contact(message)
    if contact:
        with aws.translated("read the suppression list"):
            keyed = AddressKeyedTable(table.table_name, address_keys=address_keys)
            found = table.query_partition(keyed.suppression_key(*contact)["pk"])
        suppression = found[0] if found else None
    found_job = message or (statuses[-1] if statuses else None) or (versions[-1] if versions else None)
    return {
        "provider": provider,
        "provider_message_id": message_id,
        "pk": pk,
        **_job(found_job),
        "delivery_status": (delivery or {}).get("delivery_status"),
        "draft_status": (draft or {}).get("status"),
        "suppressed": bool(suppression.get("suppressed")) if suppression else None,
        "message": message,
        "statuses": statuses,
        "delivery": delivery,
        "draft": draft,
        "suppression": suppression,
        **({"versions": versions, "reminder": reminder} if versions else {}),
        **({"other": other} if other else {}),
    }


def get_message(args: argparse.Namespace) -> int:
    target = resolve(args)
    table = EventsTable(
        target.table_name,
        dynamodb=target.client("dynamodb"),
        raw_payloads=RawPayloads(s3=target.client("s3")),  # reads the bucket each pointer names
    )
    found = lookup(table, args.provider, args.message_id, address_keys(target))
    if found is None:
        raise CliError(
            f"no message {args.message_id} from {args.provider} in {target.table_name}",
            error="not_found",
            exit_code=NOT_FOUND,
        )
    print_json(found)
    return 0
