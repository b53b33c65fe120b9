"""`switchboard metrics daily [--date D] [--json]`: one day's numbers, the same document the daily
digest e-mails (services/digest.py builds both); `switchboard metrics variants [--json]`: the reminder
A/B arms compared (services/reminders/variant_report.py)."""

from __future__ import annotations

import argparse
import time
from datetime import date

from switchboard.errors import StoreUnavailable
from switchboard.services.digest import build_digest, render, table_sources, yesterday
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import CliError, print_json
from switchboard_ops.cli.target import add_target_arguments, address_keys, resolve


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"--date must be YYYY-MM-DD, got {value!r}") from None


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("metrics", help="daily numbers: the digest AlertsTopic receives")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    daily = actions.add_parser(
        "daily",
        help="one UTC day's numbers (default: yesterday)",
        description="Webhooks by provider, duplicates and rejections, jobs processed / retried / "
        "exhausted, the canary's success rate, reconciliation's backfills and capture rate, deliveries, "
        "reminders and AI cost for one UTC day: the daily digest's document. Numbers only CloudWatch "
        "has (duplicates, rejections, reminders) are null where it has none (the local stack).",
    )
    daily.add_argument("--date", type=_day, default=None, help="the UTC day, YYYY-MM-DD (default: yesterday)")
    daily.add_argument("--json", action="store_true", dest="as_json", help="machine-readable output")
    add_target_arguments(daily)
    daily.set_defaults(run=show_daily)
    variants = actions.add_parser(
        "variants",
        help="reminder A/B arms compared: sent, delivered, failed, opt-outs, average rating",
        description="Per text arm (template | llm) and lead arm (5/10/15/30/60 minutes): reminders, sent, "
        "delivered, failed, opt-outs (the number suppressed after the reminder) and the average 1-5 "
        "rating, from the reminder records. A filtered scan of the table: an operator's tool.",
    )
    variants.add_argument("--json", action="store_true", dest="as_json", help="machine-readable output")
    add_target_arguments(variants)
    variants.set_defaults(run=show_variants)


def show_daily(args: argparse.Namespace) -> int:
    target = resolve(args)
    sources = table_sources(
        target.table_name, dynamodb=target.client("dynamodb"), cloudwatch=target.client("cloudwatch")
    )
    with aws.translated("read the day's numbers"):
        try:
            digest = build_digest(sources, args.date or yesterday(time.time()))
        except StoreUnavailable as exc:
            raise CliError(str(exc), error="store_unavailable") from exc
    if args.as_json:
        print_json({"table": target.table_name, **digest})
    else:
        print(render(digest))
    return 0


def show_variants(args: argparse.Namespace) -> int:
    from switchboard.dal.consents import Consents
    from switchboard.dal.reminders import ReminderRecords
    from switchboard.services.reminders import variant_report

    target = resolve(args)
    dynamodb = target.client("dynamodb")
    records = ReminderRecords(target.table_name, dynamodb=dynamodb)
    consents = Consents(target.table_name, dynamodb=dynamodb, address_keys=address_keys(target))
    with aws.translated("compare the reminder variants"):
        try:
            rows = variant_report.compare(
                records.scan_variants(), lambda phone: consents.suppressed_at("sms", phone)
            )
        except StoreUnavailable as exc:
            raise CliError(str(exc), error="store_unavailable") from exc
    if args.as_json:
        print_json({"table": target.table_name, "arms": rows})
    else:
        print(variant_report.render(rows))
    return 0
