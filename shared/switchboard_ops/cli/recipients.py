"""`switchboard recipients set|get --phone +1...`: a reminder recipient's zone, quiet hours, daily limit,
lead time and enabled flag, stored under the number's AddressKeys id; JSON out."""

from __future__ import annotations

import argparse
import time
from datetime import time as wall_time
from typing import Any

from pydantic import ValidationError

from switchboard.dal.recipients import Recipients
from switchboard.errors import first_problem
from switchboard.models.recipients import Recipient
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import JSON_EITHER_WAY, CliError, add_json_flag, print_json
from switchboard_ops.cli.target import add_target_arguments, address_keys, resolve

NOT_FOUND, BAD_INPUT = 1, 2
SETTINGS = ("time_zone", "quiet_start", "quiet_end", "daily_limit", "lead_minutes", "enabled")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("recipients", help="reminder recipients: zone, quiet hours, limits")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    get = actions.add_parser("get", help="print a recipient's settings as JSON (exit 1: none stored)")
    get.add_argument("--phone", required=True, help="E.164 number, e.g. +14155550123")
    add_target_arguments(get)
    add_json_flag(get, JSON_EITHER_WAY)
    get.set_defaults(run=get_recipient, json_errors=True)

    put = actions.add_parser(
        "set",
        help="create or change a recipient; unset options keep their stored (or default) values",
        description="Defaults: quiet hours 21:00-08:00, daily limit 5, lead 15 minutes, enabled. Prints "
        "the stored recipient as JSON.",
    )
    put.add_argument("--phone", required=True, help="E.164 number, e.g. +14155550123")
    put.add_argument("--time-zone", dest="time_zone", help="IANA zone, e.g. America/New_York")
    put.add_argument("--quiet-start", dest="quiet_start", type=_wall, help="HH:MM local (default 21:00)")
    put.add_argument("--quiet-end", dest="quiet_end", type=_wall, help="HH:MM local (default 08:00)")
    put.add_argument(
        "--daily-limit", dest="daily_limit", type=int, help="reminders per local day (default 5)"
    )
    put.add_argument("--lead-minutes", dest="lead_minutes", type=int, help="minutes before the start (15)")
    enabled = put.add_mutually_exclusive_group()
    enabled.add_argument("--enable", dest="enabled", action="store_const", const=True, default=None)
    enabled.add_argument("--disable", dest="enabled", action="store_const", const=False)
    add_target_arguments(put)
    add_json_flag(put, JSON_EITHER_WAY)
    put.set_defaults(run=set_recipient, json_errors=True)


def _wall(value: str) -> wall_time:
    try:
        return wall_time.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not HH:MM") from exc


def _table(args: argparse.Namespace) -> Recipients:
    target = resolve(args)
    return Recipients(
        target.table_name, dynamodb=target.client("dynamodb"), address_keys=address_keys(target)
    )


def e164(value: str) -> str:
    """Any written form of a number ("+1 (415) 555-0123") as the E.164 the recipient is keyed by."""
    from switchboard.errors import MalformedPayload
    from switchboard.providers._common import normalize_phone

    try:
        phone = normalize_phone(value, field="phone")
    except MalformedPayload as exc:
        raise CliError(f"{value!r} is not a phone number", error="invalid", exit_code=BAD_INPUT) from exc
    return phone


def _found(table: Recipients, phone: str) -> Recipient | None:
    with aws.translated("read the events table"):
        return table.get(phone)


def get_recipient(args: argparse.Namespace) -> int:
    found = _found(_table(args), e164(args.phone))
    if found is None:
        raise CliError("no recipient stored for that number", error="not_found", exit_code=NOT_FOUND)
    print_json(found.model_dump(mode="json"))
    return 0


def set_recipient(args: argparse.Namespace) -> int:
    table = _table(args)
    phone = e164(args.phone)
    current = _found(table, phone)
    changes: dict[str, Any] = {
        name: getattr(args, name) for name in SETTINGS if getattr(args, name) is not None
    }
    if "time_zone" in changes:
        changes["zone_source"] = "operator"
    base = current.model_dump() if current else {"phone": phone}
    try:
        recipient = Recipient.model_validate({**base, **changes})
    except ValidationError as exc:
        raise CliError(first_problem(exc), error="invalid", exit_code=BAD_INPUT) from exc
    with aws.translated("write the events table"):
        table.put(recipient, time.time())
    print_json(recipient.model_dump(mode="json"))
    return 0
