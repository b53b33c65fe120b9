"""`switchboard local up` (the Docker-free local stack) and `switchboard local curl SAMPLE`."""

from __future__ import annotations

import argparse
import io
import shlex
import sys

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
    curl.set_defaults(run=local_curl)


def local_up(args: argparse.Namespace) -> int:
    from switchboard_ops.local.stack import LocalStackError, StackConfig, run

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # handler log lines show up at once, even in a pipe
    try:
        return run(StackConfig.from_env(aws_request_log=args.verbose))
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
    from switchboard_ops.local.samples import load_sample

    state = local_state()
    try:
        sample = load_sample(args.sample)
    except FileNotFoundError as exc:
        raise CliError(str(exc), error="no_such_sample") from exc
    url, headers, body = sample.signed(state["api_url"], now=args.now, secrets=state.get("secrets"))
    print(curl_command(url, headers, body))
    return 0
