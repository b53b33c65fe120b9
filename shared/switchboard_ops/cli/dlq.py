"""`switchboard dlq list` and `switchboard dlq redrive`: what was dead-lettered, and moving it back.

A dead-letter queue's source - where redrive sends messages - is the queue whose RedrivePolicy names it,
read from the queues' own attributes (the local stack's come from template.yaml, a deployed stack's are
what CloudFormation set), so one path serves both targets.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from switchboard.dal.dead_letters import DeadLetter, DeadLetterQueue
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import CliError, add_json_flag, print_error, print_json, table
from switchboard_ops.cli.target import Target, add_target_arguments, resolve

DEFAULT_QUEUE = "ProcessingDeadLetterQueue"
NOT_FOUND = 1
ERROR_WIDTH = 60


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("dlq", help="dead-letter queues: list, redrive")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser(
        "list",
        help="the messages in a dead-letter queue, left in place",
        description="Message id, provider, job type, reason (exhausted / permanent), error, attempts and "
        "age of each dead-lettered job. Listing holds each message for a moment and releases it.",
    )
    _queue_argument(listing)
    listing.add_argument("--limit", type=int, default=100, help="at most this many messages (default 100)")
    add_json_flag(listing)
    add_target_arguments(listing)
    listing.set_defaults(run=list_dead_letters)

    redrive = actions.add_parser(
        "redrive",
        help="move dead-lettered messages back to the queue that dead-letters into this one",
        description="Moves the chosen messages (--id, repeatable) or every message (--all) back to the "
        "source queue, where the worker takes them again; a job's attempts keep counting. On AWS --all "
        "starts SQS's own message move task; locally each message is sent back and then deleted.",
    )
    _queue_argument(redrive)
    which = redrive.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", action="append", dest="ids", metavar="MESSAGE_ID", help="a message id")
    which.add_argument("--all", action="store_true", dest="everything", help="every message in the queue")
    add_json_flag(redrive)
    add_target_arguments(redrive)
    redrive.set_defaults(run=redrive_dead_letters)


def _queue_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--queue", default=DEFAULT_QUEUE, help=f"the dead-letter queue's logical id (default {DEFAULT_QUEUE})"
    )


def _queue_url(target: Target, logical_id: str) -> str:
    if logical_id not in target.queues:
        known = ", ".join(sorted(target.queues)) or "none"
        raise CliError(f"no queue {logical_id} in the {target.name} stack (queues: {known})", error="usage")
    return target.queues[logical_id]


def source_queue(target: Target, sqs: Any, dead_letter: str) -> str:
    """The logical id of the one queue whose RedrivePolicy dead-letters into `dead_letter`."""
    depths = aws.queue_depths(sqs, target.queues)
    arn = next(depth.arn for depth in depths if depth.logical_id == dead_letter)
    sources = [depth.logical_id for depth in depths if depth.redrive_to_arn == arn]
    if len(sources) != 1:
        detail = "none does" if not sources else f"several do: {', '.join(sources)}"
        raise CliError(f"redrive needs the one queue that dead-letters into {dead_letter}; {detail}")
    return sources[0]


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def describe(letter: DeadLetter, now: float) -> dict[str, Any]:
    """A dead letter as the CLI shows it; the job's own fields (pk, message id) when the body is a job."""
    attributes = letter.attributes
    try:
        job = json.loads(letter.body)
    except ValueError:
        job = None
    job = job if isinstance(job, dict) else {}
    sent = letter.sent_at_ms / 1000 if letter.sent_at_ms else None
    return {
        "message_id": letter.message_id,
        "provider": attributes.get("provider") or job.get("provider"),
        "job_type": attributes.get("job_type") or job.get("kind"),
        # None: dead-lettered by the queue's redrive policy (maxReceiveCount), not by the worker
        "reason": attributes.get("reason"),
        "error": attributes.get("error"),
        "attempts": _number(attributes.get("attempts")),
        "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sent)) if sent else None,
        "age_seconds": max(0, int(now - sent)) if sent else None,
        "pk": job.get("pk"),
        "provider_message_id": job.get("provider_message_id"),
        "source_queue": attributes.get("source_queue"),
        "redriven_from": attributes.get("redriven_from"),
        "body": letter.body,
    }


def age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _cell(value: Any, width: int | None = None) -> str:
    text = "-" if value in (None, "") else " ".join(str(value).split())
    return text if width is None or len(text) <= width else text[: width - 3] + "..."


def render(queue: str, letters: list[dict[str, Any]]) -> str:
    if not letters:
        return f"{queue} is empty."
    rows = [
        [
            letter["message_id"],
            _cell(letter["provider"]),
            _cell(letter["job_type"]),
            _cell(letter["reason"] or "redrive policy"),
            _cell(letter["error"], ERROR_WIDTH),
            _cell(letter["attempts"]),
            age(letter["age_seconds"]),
        ]
        for letter in letters
    ]
    headers = ["MESSAGE ID", "PROVIDER", "JOB TYPE", "REASON", "ERROR", "ATTEMPTS", "AGE"]
    count = f"{len(letters)} message{'s' if len(letters) != 1 else ''}"
    return f"{queue}: {count}\n\n" + table(headers, rows, numeric=(5, 6))


def list_dead_letters(args: argparse.Namespace) -> int:
    target = resolve(args)
    url = _queue_url(target, args.queue)
    dlq = DeadLetterQueue(url, source_url="", sqs=target.client("sqs"))
    with aws.translated(f"read {args.queue}"):
        letters = dlq.list(limit=max(1, args.limit))
    now = time.time()
    described = sorted((describe(letter, now) for letter in letters), key=lambda item: item["sent_at"] or "")
    if args.as_json:
        print_json({"queue": args.queue, "count": len(described), "messages": described})
    else:
        print(render(args.queue, described))
    return 0


def redrive_dead_letters(args: argparse.Namespace) -> int:
    target = resolve(args)
    sqs = target.client("sqs")
    url = _queue_url(target, args.queue)
    source = source_queue(target, sqs, args.queue)
    dlq = DeadLetterQueue(url, target.queues[source], sqs=sqs)
    wanted: set[str] | None = set(args.ids) if args.ids else None
    with aws.translated(f"redrive {args.queue} to {source}"):
        if wanted is None and target.is_local:
            # moto has no StartMessageMoveTask (its server answers 500): name every message instead.
            wanted = {letter.message_id for letter in dlq.list(limit=1000)}
        moved = dlq.redrive(wanted) if wanted != set() else []
    move_task = moved == ["*"]
    missing = sorted(wanted - set(moved)) if wanted is not None and not move_task else []
    if args.as_json:
        print_json(
            {
                "from": args.queue,
                "to": source,
                "moved": [] if move_task else moved,
                "move_task": move_task,
                "not_found": missing,
            }
        )
    elif move_task:
        print(f"Started an SQS message move task: every message in {args.queue} goes back to {source}.")
    else:
        print(f"Moved {len(moved)} message{'s' if len(moved) != 1 else ''} from {args.queue} to {source}")
        for message_id in moved:
            print(f"  {message_id}")
    if missing:  # the moved ones are printed above: an error line, not a raised CliError, keeps them
        not_found = CliError(f"not in {args.queue}: {', '.join(missing)}", error="not_found")
        print_error(not_found, as_json=args.as_json)
        return NOT_FOUND
    return 0
