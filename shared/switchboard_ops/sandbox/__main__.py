"""`python -m switchboard_ops.sandbox --port 3001 --api-url http://127.0.0.1:3000`: the sandbox provider
standalone, until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from switchboard_ops.sandbox.config import ConfigError
from switchboard_ops.sandbox.server import Sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m switchboard_ops.sandbox",
        description="Local Twilio + OpenPhone API sandbox that delivers signed webhooks to Switchboard.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--api-url", default="http://127.0.0.1:3000", help="where webhooks go")
    parser.add_argument("--drop-rate", type=float, default=None, help="share of inbound webhooks dropped")
    parser.add_argument("--callback-drop-rate", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None, help="seeds the drop decisions")
    parser.add_argument("--twilio-rate", type=float, default=None, help="Twilio requests/s before 429")
    parser.add_argument("--openphone-rate", type=float, default=None, help="OpenPhone requests/s (10)")
    parser.add_argument("--out-of-order", action="store_true", help="final status callback before 'sent'")
    parser.add_argument("--status-delay", type=float, default=None, help="seconds between status changes")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings: dict[str, Any] = {
        name: getattr(args, name)
        for name in (
            "drop_rate",
            "callback_drop_rate",
            "seed",
            "twilio_rate",
            "openphone_rate",
            "status_delay",
        )
        if getattr(args, name) is not None
    }
    if args.out_of_order:
        settings["out_of_order"] = True
    try:
        sandbox = Sandbox(args.api_url, host=args.host, port=args.port, verbose=args.verbose, **settings)
        sandbox.start()
    except ConfigError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    summary = {
        "sandbox_url": sandbox.url,
        "api_url": sandbox.config.api_url,
        "twilio_account_sid": sandbox.twilio_account_sid,
        "openphone_numbers": dict(sandbox.config.openphone_numbers),
        "twilio_numbers": list(sandbox.config.twilio_numbers),
    }
    print(json.dumps(summary), flush=True)
    try:
        stop.wait()
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
