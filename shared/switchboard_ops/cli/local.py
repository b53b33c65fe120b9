"""`switchboard local up` (the Docker-free local stack) and `switchboard local curl SAMPLE`."""

from __future__ import annotations

import argparse
import io
import shlex
import sys
import time

from switchboard_ops.cli.output import CliError
from switchboard_ops.cli.target import local_state


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("local", help="the local stack (moto as AWS, the API on localhost)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    up = actions.add_parser(
        "up",
        help="run the local stack until Ctrl-C",
        description="moto's server on 127.0.0.1:$SWITCHBOARD_AWS_PORT (4566), the template's resources "
        "in it, the HTTP API on 127.0.0.1:$SWITCHBOARD_PORT (3000). Writes .local/stack.json "
        "($SWITCHBOARD_STATE_DIR) when ready and removes it on exit.",
    )
    up.add_argument("-v", "--verbose", action="store_true", help="also log every AWS (moto) request")
    up.add_argument(
        "--time-scale",
        metavar="N",
        help="run the worker's retry backoff N times faster (60: a minute in a second); default "
        "$SWITCHBOARD_TIME_SCALE or 1. Divides BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS and "
        "JOB_LEASE_SECONDS (at least 1 s each); SQS visibility itself stays real time",
    )
    up.set_defaults(run=local_up)

    curl = actions.add_parser(
        "curl",
        help="print a curl command posting a sample webhook, signed for the running stack",
        description='Use as: eval "$(switchboard local curl twilio_inbound_sms)". SAMPLE is a name in '
        "events/payloads/ (or ingest/<name> for events/ingest/) or a path to such a file.",
    )
    curl.add_argument("sample", metavar="EVENT_NAME_OR_PATH")
    curl.add_argument(
        "--now",
        type=float,
        metavar="UNIX_SECONDS",
        help="sign as of this time instead of the current time (timestamped providers accept +/- 5 min)",
    )
    curl.add_argument(
        "--body",
        metavar="TEXT",
        help="replace the message text (Twilio's Body field, the text field of a JSON sample); implies "
        "--new-id. With the local stack's fault injection, '#fail' always fails and '#fail3' fails 3 times",
    )
    curl.add_argument(
        "--new-id",
        action="store_true",
        help="post it under a never-seen message id (else a repeat is only a duplicate)",
    )
    curl.set_defaults(run=local_curl)


def local_up(args: argparse.Namespace) -> int:
    from switchboard_ops.local.stack import LocalStackError, StackConfig, run

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # handler log lines show up at once, even in a pipe
    try:
        return run(StackConfig.from_env(aws_request_log=args.verbose, time_scale=args.time_scale))
    except LocalStackError as exc:
        raise CliError(str(exc), error="cannot_start") from exc


def curl_command(url: str, headers: dict[str, str], body: bytes) -> str:
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url)]
    for name, value in headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    text = body.decode("utf-8")
    parts += ["-w", shlex.quote("\\n")]
    if text.startswith("@"):  # curl would read a file named by the rest: pipe the body in instead
        return f"printf '%s' {shlex.quote(text)} | {' '.join(parts)} --data-binary @-"
    return " ".join([*parts, "--data-binary", shlex.quote(text)])


def local_curl(args: argparse.Namespace) -> int:
    from switchboard_ops.local.samples import load_sample, with_changes

    state = local_state()
    try:
        sample = load_sample(args.sample)
    except FileNotFoundError as exc:
        raise CliError(str(exc), error="no_such_sample") from exc
    try:
        sample = with_changes(sample, body=args.body, new_id=args.new_id)
    except ValueError as exc:
        raise CliError(str(exc), error="cannot_change_sample") from exc
    now = time.time() if args.now is None else args.now  # GHL's body timestamp is re-stamped to it too
    url, headers, body = sample.signed(state["api_url"], now=now, secrets=state.get("secrets"))
    print(curl_command(url, headers, body))
    return 0
