"""`switchboard metrics daily [--date D] [--json]`: one day's numbers, the same document the daily
digest e-mails (services/digest.py builds both); `switchboard metrics variants [--json]`: the reminder
A/B arms compared (services/reminders/variant_report.py); `switchboard metrics reminders [--date D]
[--phone +E164] [--days N] [--json]`: the stored reminder numbers per day or of one recipient
(services/reminders/stats.py)."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from switchboard.errors import StoreUnavailable
from switchboard.services.digest import build_digest, render, table_sources, yesterday
from switchboard_ops.cli import aws
from switchboard_ops.cli.arguments import days_back
from switchboard_ops.cli.output import CliError, add_json_flag, print_json, table
from switchboard_ops.cli.target import add_target_arguments, address_keys, resolve

# Nothing is older than the epoch; the digest's and the rollup's day arithmetic overflows at year 1 and 9999.
EARLIEST_DAY, LATEST_DAY = date(1970, 1, 1), date.max - timedelta(days=1)
COLUMNS = (  # (header, row field) of `metrics reminders`' table; --json has every field
    ("reminders", "reminders"),
    ("sent", "sent"),
    ("delivered", "delivered"),
    ("failed", "failed"),
    ("delivery %", "delivery_rate"),
    ("opt-out %", "opt_out_rate"),
    ("quiet-hours %", "quiet_hours_rate"),
    ("limit %", "daily_limit_rate"),
    ("llm texts", "texts"),
    ("llm cost", "llm_cost_usd"),
)


def _day(value: str) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--date must be YYYY-MM-DD, got {value!r}") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise argparse.ArgumentTypeError(
            f"--date must be a day from {EARLIEST_DAY} to {LATEST_DAY}, got {value!r}"
        )
    return day.isoformat()


def register(commands: argparse._SubParsersAction) -> None:
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
    add_json_flag(daily)
    add_target_arguments(daily)
    daily.set_defaults(run=show_daily)
    variants = actions.add_parser(
        "variants",
        help="reminder A/B arms compared: sent, delivered, failed, opt-outs, average rating",
        description="Per text arm (template | llm) and lead arm (5/10/15/30/60 minutes): reminders, sent, "
        "delivered, failed, opt-outs (the number suppressed after the reminder) and the average 1-5 "
        "rating, from the reminder records. A filtered scan of the table: an operator's tool.",
    )
    add_json_flag(variants)
    add_target_arguments(variants)
    variants.set_defaults(run=show_variants)
    reminders = actions.add_parser(
        "reminders",
        help="reminder and delivery numbers per UTC day, or of one recipient (--phone)",
        description="Scheduled, sent, delivered, failed, cancelled by reason, delivery / opt-out / "
        "quiet-hours / daily-limit rates, template vs LLM texts, LLM success, time and cost. Rows the "
        "daily digest stored (one Query); a day it has not rolled up yet (today) is computed from the "
        "records and says so.",
    )
    reminders.add_argument("--date", type=_day, default=None, help="the last UTC day (default: today)")
    reminders.add_argument("--days", type=days_back, default=1, help="days up to --date (default 1, max 400)")
    reminders.add_argument("--phone", default=None, help="one recipient's rows: E.164, e.g. +14155550123")
    add_json_flag(reminders)
    add_target_arguments(reminders)
    reminders.set_defaults(run=show_reminders)


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


def show_reminders(args: argparse.Namespace) -> int:
    from switchboard.services.digest import reminder_rollup
    from switchboard_ops.cli.recipients import e164

    phone = e164(args.phone) if args.phone is not None else None
    target = resolve(args)
    rollup = reminder_rollup(target.table_name, dynamodb=target.client("dynamodb"))
    last = args.date or datetime.now(UTC).date().isoformat()
    with aws.translated("read the reminder numbers"):
        try:
            if phone is None:
                rows = rollup.day_rows(last, args.days)
            else:
                rows = rollup.recipient_rows(address_keys(target).of(phone), last, args.days)
        except StoreUnavailable as exc:
            raise CliError(str(exc), error="store_unavailable") from exc
    if args.as_json:
        print_json({"table": target.table_name, "last": last, "days": args.days, "rows": rows})
    else:
        print(_reminder_table(rows) if rows else "no reminders for that number in those days")
    return 0


def _reminder_table(rows: list[dict[str, Any]]) -> str:
    def cell(row: dict[str, Any], name: str) -> str:
        value = row.get(name)
        if name == "texts":
            return str((value or {}).get("llm", "-"))
        return "-" if value is None else str(value)

    body = [[row["day"], *(cell(row, name) for _, name in COLUMNS), row["source"]] for row in rows]
    headers = ["day", *(header for header, _ in COLUMNS), "source"]
    return table(headers, body, numeric=range(1, len(COLUMNS) + 1))
