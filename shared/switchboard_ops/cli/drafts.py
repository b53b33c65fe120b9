"""`switchboard drafts list|approve|reject`: drafted replies waiting for review, and their moves.

A draft's id is the pk of the message it answers (`EVT#<provider>#<provider message id>`, as `drafts
list` prints it). Approving enqueues the reply (send key = the draft id's hash: at most once however
often it is approved); approving a sent, failed or rejected draft, or rejecting anything but a pending
one, is refused with the draft's state (exit 2); no such draft is exit 1, as every command's "not found".
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from switchboard.dal.drafts import Drafts
from switchboard.dal.events_table import EventsTable
from switchboard.dal.outbound_queue import OutboundQueue
from switchboard.errors import DraftNotFound, DraftTransitionRefused, ReplyNotPossible
from switchboard.models.drafts import DraftState
from switchboard.observability import mask_text
from switchboard.services.drafts.lifecycle import approve_draft, reject_draft
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import CliError, add_json_flag, print_json, table
from switchboard_ops.cli.target import Target, add_target_arguments, resolve

NOT_FOUND = 1
FIELDS = ("pk", "status", "provider", "channel", "to", "variant", "fallback", "auto_send_hold", "text")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("drafts", help="drafted replies: list, approve, reject")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="drafts (in one state), newest first")
    listing.add_argument("--state", choices=[state.value for state in DraftState], help="only this state")
    add_json_flag(listing)
    listing.set_defaults(run=list_drafts)
    approve = actions.add_parser("approve", help="approve a draft and enqueue its reply")
    approve.add_argument("draft_id", help="the draft's id: the pk of the message it answers")
    add_json_flag(approve)
    approve.set_defaults(run=approve_one)
    reject = actions.add_parser("reject", help="reject a pending draft")
    reject.add_argument("draft_id", help="the draft's id: the pk of the message it answers")
    reject.add_argument("--reason", default="rejected by an operator", help="why (stored on the draft)")
    add_json_flag(reject)
    reject.set_defaults(run=reject_one)
    for sub in (listing, approve, reject):
        add_target_arguments(sub)


def _drafts(target: Target) -> Drafts:
    return Drafts(target.table_name, dynamodb=target.client("dynamodb"))


def _view(draft: dict[str, Any]) -> dict[str, Any]:
    return {name: draft.get(name) for name in (*FIELDS, "created_at", "approved_by", "reject_reason")}


def list_drafts(args: argparse.Namespace) -> int:
    target = resolve(args)
    with aws.translated("scan the events table"):
        drafts = sorted(_drafts(target).scan(args.state), key=lambda d: -int(d.get("created_at", 0)))
    if args.as_json:
        print_json([_view(draft) for draft in drafts])
        return 0
    rows = [
        [
            d["pk"],
            d.get("status"),
            d.get("provider", ""),
            mask_text(str(d.get("to", ""))),
            d.get("variant", ""),
        ]
        + [str(d.get("text", ""))[:50]]
        for d in drafts
    ]
    print(table(["ID", "STATE", "PROVIDER", "TO", "VARIANT", "TEXT"], rows) if rows else "no drafts")
    return 0


def _refused(error: Exception) -> CliError:
    if isinstance(error, DraftNotFound):
        return CliError(f"no draft {error}", error="not_found", exit_code=NOT_FOUND)
    return CliError(str(error), error="conflict")


def approve_one(args: argparse.Namespace) -> int:
    target = resolve(args)
    if "OutboundQueue" not in target.queues:
        raise CliError(f"the {target.name} stack has no OutboundQueue", error="not_supported")
    messages = EventsTable(target.table_name, dynamodb=target.client("dynamodb"))
    queue = OutboundQueue(target.queues["OutboundQueue"], sqs=target.client("sqs"))
    try:
        with aws.translated("approve the draft"):
            draft = approve_draft(_drafts(target), messages, queue, args.draft_id, time.time(), by="operator")
    except (DraftNotFound, DraftTransitionRefused) as refused:
        raise _refused(refused) from refused
    except ReplyNotPossible as impossible:
        raise CliError(f"approved, but it cannot be sent: {impossible}", error="reply_not_possible") from None
    if args.as_json:
        print_json({**_view(draft), "send": "enqueued"})
    else:
        print(f"draft {args.draft_id}  approved  (reply enqueued)")
    return 0


def reject_one(args: argparse.Namespace) -> int:
    target = resolve(args)
    try:
        with aws.translated("reject the draft"):
            draft = reject_draft(_drafts(target), args.draft_id, time.time(), reason=args.reason)
    except (DraftNotFound, DraftTransitionRefused) as refused:
        raise _refused(refused) from refused
    if args.as_json:
        print_json(_view(draft))
    else:
        print(f"draft {args.draft_id}  rejected")
    return 0
