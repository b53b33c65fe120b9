"""`switchboard send --to N --body B`: an operator's message, through the same outbound queue and sender
as reminders and the canary (at most once, never to a suppressed number)."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from pydantic import ValidationError

from switchboard.dal.outbound_records import OutboundRecords
from switchboard.dal.queue_bodies import json_body
from switchboard.errors import first_problem
from switchboard.models.outbound import SendRequest
from switchboard.models.states import SendState
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import CliError, add_json_flag, print_json
from switchboard_ops.cli.target import Target, add_target_arguments, resolve
from switchboard_ops.cli.waiting import poll, timeout_seconds

FINAL_STATES = (
    SendState.SENT,
    SendState.REJECTED,
    SendState.SUPPRESSED,
    SendState.AMBIGUOUS,
    SendState.FAILED,
)
NOT_SENT = 1
DEFAULT_WAIT_SECONDS = 120.0  # a transient failure is retried after 30 s, then 60 s (real time)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "send",
        help="send a message through the outbound queue and the sender",
        description="Enqueues a send request (purpose 'operator', a fresh send key unless --key) on "
        "OutboundQueue and prints its send key; SenderFunction sends it at most once, never to a "
        "suppressed number, with a status callback. With --wait, polls the SEND#<key> record until it is "
        "final and prints it: exit 0 SENT, 1 REJECTED / SUPPRESSED / AMBIGUOUS / FAILED, 2 not final "
        "within --timeout. Locally --from defaults to the sandbox's number +14155550100.",
    )
    parser.add_argument("--to", required=True, metavar="E164", help="the recipient, e.g. +14155550142")
    parser.add_argument("--body", required=True, help="the message text (1-1600 characters)")
    parser.add_argument("--provider", choices=("twilio", "openphone"), default="twilio")
    parser.add_argument(
        "--from",
        dest="sender",
        metavar="NUMBER",
        help="our number (E.164, or an OpenPhone PN id); required for a deployed stack",
    )
    parser.add_argument("--channel", choices=("sms", "whatsapp"), default="sms")
    parser.add_argument("--key", help="the send key (idempotency: a key already sent is not sent again)")
    parser.add_argument("--wait", action="store_true", help="wait until the send is final")
    parser.add_argument(
        "--timeout",
        type=timeout_seconds,
        metavar="SECONDS",
        help=f"how long --wait waits (default {DEFAULT_WAIT_SECONDS:g})",
    )
    add_json_flag(parser)
    add_target_arguments(parser)
    parser.set_defaults(run=send)


def _default_sender(target: Target) -> str:
    if target.is_local:
        numbers = (target.state.get("sandbox") or {}).get("twilio_numbers") or []
        if numbers:
            return str(numbers[0])
    raise CliError("pass --from: one of your numbers (E.164) or an OpenPhone PN id", error="usage")


def build_request(args: argparse.Namespace, target: Target) -> SendRequest:
    try:
        return SendRequest(
            send_key=args.key or f"operator-{uuid.uuid4().hex}",
            provider=args.provider,
            sender=args.sender or _default_sender(target),
            recipient=args.to,
            body=args.body,
            channel=args.channel,
            purpose="operator",
        )
    except ValidationError as invalid:
        raise CliError(f"not a valid send request: {first_problem(invalid)}", error="usage") from invalid


def describe(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "send_key": record.get("send_key"),
        "state": record.get("state"),
        "provider": record.get("provider"),
        "provider_message_id": record.get("provider_message_id"),
        "attempts": record.get("attempts"),
        "error": record.get("error"),
        "error_code": record.get("error_code"),
        "needs_review": record.get("needs_review"),
    }


def send(args: argparse.Namespace) -> int:
    target = resolve(args)
    if "OutboundQueue" not in target.queues:
        raise CliError(f"the {target.name} stack has no OutboundQueue", error="not_supported")
    request = build_request(args, target)
    sqs = target.client("sqs")
    with aws.translated("enqueue the send"):
        sqs.send_message(QueueUrl=target.queues["OutboundQueue"], MessageBody=json_body(request))
    key = request.send_key
    summary = f"{request.sender} -> {request.recipient} via {request.provider}"
    if not args.wait:
        if args.as_json:
            print_json({"send_key": key, "state": "QUEUED"})
        else:
            print(f"send key {key}  queued  ({summary})")
        return 0
    if not args.as_json:
        print(f"send key {key}  queued  ({summary})", flush=True)
    records = OutboundRecords(target.table_name, dynamodb=target.client("dynamodb"))

    def fetch() -> dict[str, Any]:
        with aws.translated("read the send record"):
            return records.get(key) or {"send_key": key, "state": "QUEUED"}

    record = poll(
        fetch,
        lambda item: item.get("state") in FINAL_STATES,
        timeout=DEFAULT_WAIT_SECONDS if args.timeout is None else args.timeout,
        what=f"send {key}",
        describe=lambda item: str(item.get("state")),
    )
    described = describe(record)
    if args.as_json:
        print_json(described)
    else:
        line = f"send key {key}  {described['state']}"
        if described["provider_message_id"]:
            line += f"  provider id {described['provider_message_id']}"
        if described["error"]:
            line += f"  ({described['error']})"
        print(line)
    return 0 if described["state"] == SendState.SENT else NOT_SENT
