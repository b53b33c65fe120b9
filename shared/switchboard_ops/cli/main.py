"""`switchboard`: the operator CLI. Works against the local stack (default) or a deployed stack
(`--stack-name`). Subcommands live in small modules, each with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from switchboard_ops.cli import (
    ai,
    alerts,
    dlq,
    drafts,
    health,
    jobs,
    local,
    messages,
    metrics,
    recipients,
    reconcile,
    reminders,
    send,
    status,
)
from switchboard_ops.cli.output import CliError, CliParser, print_error, usage_errors_as_json

COMMANDS = (
    local,
    messages,
    recipients,
    status,
    dlq,
    jobs,
    health,
    send,
    alerts,
    reconcile,
    ai,
    metrics,
    reminders,
    drafts,
)


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="switchboard",
        description="Operate Switchboard: the local stack, stored messages, queue status, dead-letter "
        "queues, job statistics, the health check, sending a message, alerts, reconciliation, reminder "
        "recipients, AI usage, reminders and their kill switch, drafts, daily metrics.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(commands)
    return parser


@contextlib.contextmanager
def logs_on_stderr() -> Iterator[None]:
    """The services' log lines (Powertools writes to stdout, as Lambda wants) go to stderr while a command
    runs: its stdout is its output, which --json promises is JSON alone (`reminders pause --json | jq`)."""
    from switchboard.observability import logger

    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        yield
        return
    previous = handler.setStream(sys.stderr)  # None when it already was stderr
    try:
        yield
    finally:
        if previous is not None:
            handler.setStream(previous)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    with usage_errors_as_json(argv):
        args = build_parser().parse_args(argv)
    # `local up`'s stdout is the stack's log, its functions' lines included
    logs = logs_on_stderr() if args.command != "local" else contextlib.nullcontext()
    try:
        with logs:
            return int(args.run(args) or 0)
    except CliError as error:
        print_error(
            error, as_json=bool(getattr(args, "json_errors", False) or getattr(args, "as_json", False))
        )
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`switchboard ... | head`): no traceback; stdout is closed quietly.
        with contextlib.suppress(OSError, ValueError):  # stdout without a file descriptor: nothing to do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports it


if __name__ == "__main__":
    sys.exit(main())
