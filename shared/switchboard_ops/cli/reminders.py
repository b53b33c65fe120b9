"""`switchboard reminders list|get|cancel|rollout|pause|resume`: reminder records and the kill switch.

`list` reads scheduled reminders through the RemindersDue index (a due window is a key condition);
other states have no index, so they come from a filtered scan of the table: an operator's tool, not
something to run every minute. `pause --cancel-pending` is the rollback plan of seed 002.
"""

from __future__ import annotations

import argparse
import getpass
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from switchboard.dal.reminders import ReminderRecords
from switchboard.dal.rollout_flag import RolloutFlagStore
from switchboard.errors import DependencyUnavailable, ReminderNotCancellable
from switchboard.models.reminders import ReminderState
from switchboard.models.rollout import RolloutMode
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import CliError, add_json_flag, print_json, table
from switchboard_ops.cli.recipients import e164
from switchboard_ops.cli.target import Target, add_target_arguments, address_keys, resolve

NOT_FOUND, BAD_INPUT = 1, 2
PARAMETER = "RemindersRolloutParameter"
COLUMNS = ("calendar", "event_id", "version", "state", "reason", "due_at")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("reminders", help="reminders: list, get, cancel; rollout and kill switch")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="reminders by state (scheduled: by due window)")
    listing.add_argument(
        "--state",
        default="scheduled",
        choices=[s.value for s in ReminderState],
        help="default scheduled (read from the due index); any other state scans the table",
    )
    listing.add_argument("--due-from", dest="due_from", type=_instant, help="ISO time (scheduled only)")
    listing.add_argument("--due-until", dest="due_until", type=_instant, help="ISO time (scheduled only)")
    listing.set_defaults(run=list_reminders)

    get = actions.add_parser("get", help="one reminder as JSON (exit 1: none)")
    cancel = actions.add_parser("cancel", help="cancel a scheduled reminder (reason: operator)")
    for command, run in ((get, get_reminder), (cancel, cancel_reminder)):
        command.add_argument("--calendar", required=True, help="calcom | calendly | calendar")
        command.add_argument("--event-id", dest="event_id", required=True)
        command.set_defaults(run=run, json_errors=True)

    rollout = actions.add_parser("rollout", help="print or change who gets reminders (the rollout flag)")
    rollout.add_argument("--mode", choices=[m.value for m in RolloutMode])
    rollout.add_argument("--percent", type=int, help="percentage mode: 0-100 of recipients")
    rollout.add_argument("--internal", nargs="*", metavar="PHONE", help="the internal testers' numbers")
    rollout.add_argument("--beta", nargs="*", metavar="PHONE", help="the beta recipients' numbers")
    rollout.set_defaults(run=change_rollout, json_errors=True)

    pause = actions.add_parser("pause", help="the kill switch: stop scheduling and sending at once")
    pause.add_argument(
        "--cancel-pending", dest="cancel_pending", action="store_true", help="and cancel every scheduled one"
    )
    pause.set_defaults(run=pause_reminders, json_errors=True)
    resume = actions.add_parser("resume", help="undo a pause (cancelled reminders stay cancelled)")
    resume.set_defaults(run=resume_reminders, json_errors=True)

    for command in (listing, get, cancel, rollout, pause, resume):
        add_json_flag(command)
        add_target_arguments(command)


def _instant(value: str) -> int:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO time") from exc
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _records(target: Target) -> ReminderRecords:
    return ReminderRecords(target.table_name, dynamodb=target.client("dynamodb"))


def _operations(target: Target) -> Any:
    from switchboard.dal.notifications import publish_alert
    from switchboard.services.reminders.operations import ReminderOperations

    topic = target.topics.get("AlertsTopic")

    def alert(subject: str, message: str) -> None:
        if topic:
            publish_alert(topic, subject, message, sns=target.client("sns"))

    return ReminderOperations(_records(target), _flag(target), alert)


def _flag(target: Target) -> RolloutFlagStore:
    name = target.parameters.get(PARAMETER)
    if not name:
        raise CliError(f"{target.name} has no {PARAMETER}: is the stack up to date?", error="no_flag")
    return RolloutFlagStore(name, ssm=target.client("ssm"))


def _due(item: dict[str, Any]) -> str:
    due = item.get("due_at")
    return datetime.fromtimestamp(int(due) / 1000, tz=UTC).isoformat() if due is not None else ""


def list_reminders(args: argparse.Namespace) -> int:
    windowed = args.due_from is not None or args.due_until is not None
    if args.state != "scheduled" and windowed:
        # only a scheduled reminder is in the due index: ignoring the window would list every match
        raise CliError("--due-from/--due-until apply to --state scheduled only", error="usage")
    if args.due_from is not None and args.due_until is not None and args.due_until < args.due_from:
        raise CliError("--due-until is before --due-from", error="usage")
    records = _records(resolve(args))
    with _translated("read the events table"):
        if args.state == "scheduled":
            found = [
                {**item, "state": "scheduled"}
                for item in records.scheduled(due_from=args.due_from or 0, due_until=args.due_until)
            ]
        else:
            found = list(records.scan_by_state(args.state))
    rows = sorted(
        ({c: item.get(c) for c in COLUMNS} | {"due_at": _due(item)} for item in found),
        key=lambda row: (row["due_at"], row["calendar"], row["event_id"]),
    )
    if args.as_json:
        print_json(rows)
    else:
        cells = [[row[c] if row[c] is not None else "" for c in COLUMNS] for row in rows]
        print(table(COLUMNS, cells) if rows else "no reminders")
    return 0


def get_reminder(args: argparse.Namespace) -> int:
    with _translated("read the events table"):
        found = _records(resolve(args)).get(args.calendar, args.event_id)
    if found is None:
        raise CliError(f"no reminder for {args.calendar}/{args.event_id}", error="not_found", exit_code=1)
    print_json({**found, "due_at_iso": _due(found) or None})
    return 0


def cancel_reminder(args: argparse.Namespace) -> int:
    try:
        with _translated("cancel the reminder"):
            cancelled = _operations(resolve(args)).cancel(args.calendar, args.event_id, now=time.time())
    except ReminderNotCancellable as exc:
        if exc.state is None:
            raise CliError(
                f"no reminder for {args.calendar}/{args.event_id}", error="not_found", exit_code=NOT_FOUND
            ) from exc
        raise CliError(
            f"the reminder is {exc.state}, not scheduled: a sent reminder cannot be cancelled",
            error="not_cancellable",
            exit_code=NOT_FOUND,
        ) from exc
    print_json(cancelled)
    return 0


def change_rollout(args: argparse.Namespace) -> int:
    target = resolve(args)
    store = _flag(target)
    with _translated("read the rollout flag"):
        flag = store.read(fresh=True)
    changes: dict[str, Any] = {}
    if args.mode:
        changes["mode"] = RolloutMode(args.mode)
    if args.percent is not None:
        if not 0 <= args.percent <= 100:
            raise CliError("--percent must be 0-100", error="invalid", exit_code=BAD_INPUT)
        changes["percent"] = args.percent
    keys = address_keys(target)  # reads the contact key only when a number is given
    for group in ("internal", "beta"):
        numbers = getattr(args, group)
        if numbers is not None:
            changes[group] = tuple(keys.of(e164(number)) for number in numbers)
    if changes:
        flag = flag.model_copy(update=changes)
        with _translated("write the rollout flag"):
            store.write(flag)
    print_json(flag.model_dump(mode="json"))
    return 0


def pause_reminders(args: argparse.Namespace) -> int:
    with _translated("pause reminders"):
        result = _operations(resolve(args)).pause(
            cancel_pending=args.cancel_pending, now=time.time(), actor=getpass.getuser()
        )
    print_json(result)
    return 0


def resume_reminders(args: argparse.Namespace) -> int:
    with _translated("resume reminders"):
        result = _operations(resolve(args)).resume(now=time.time(), actor=getpass.getuser())
    print_json(result)
    return 0


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """AWS failures, raw or already translated by the dal, as one-line CliErrors."""
    try:
        with aws.translated(what):
            yield
    except DependencyUnavailable as exc:
        raise CliError(f"{what}: {exc}", error="unavailable") from exc
