"""`switchboard local up` (the Docker-free local stack), `local curl SAMPLE`, `local trigger FUNCTION`
(fire a function's schedule now), `local invoke FUNCTION -e EVENT_FILE` (what `sam local invoke -e` does,
without Docker) and `local schedules`."""

from __future__ import annotations

import argparse
import io
import shlex
import sys
import time
from typing import Any

from switchboard_ops.cli.output import JSON_EITHER_WAY, CliError, add_json_flag
from switchboard_ops.cli.target import local_state

LAST_UNIX_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z: the last time a signature's date can carry


def _unix_seconds(value: str) -> float:
    """--now: a time every provider's signing can format (NaN, inf and 1e308 were tracebacks)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= LAST_UNIX_SECOND:  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"--now must be Unix seconds from 0 to {LAST_UNIX_SECOND}, got {value!r}"
        )
    return seconds


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("local", help="the local stack (moto as AWS, the API on localhost)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    up = actions.add_parser(
        "up",
        help="run the local stack until Ctrl-C",
        description="moto's server on 127.0.0.1:$SWITCHBOARD_AWS_PORT (4566), the template's resources "
        "in it, the HTTP API on 127.0.0.1:$SWITCHBOARD_PORT (3000), the sandbox provider (Twilio and "
        "OpenPhone APIs) on 127.0.0.1:$SWITCHBOARD_SANDBOX_PORT (3001), a control endpoint on "
        "$SWITCHBOARD_CONTROL_PORT (default: any free port), SQS event sources polled and Schedule events "
        "fired. Writes .local/stack.json ($SWITCHBOARD_STATE_DIR) when ready and removes it on exit. "
        "moto runs with two corrections that keep DynamoDB transactions and SQS sends from slowing down "
        "as data grows (switchboard_ops/local/moto_patches.py); SWITCHBOARD_MOTO_AS_SHIPPED=1 turns "
        "them off.",
    )
    up.add_argument("-v", "--verbose", action="store_true", help="also log every AWS (moto) request")
    up.add_argument(
        "--time-scale",
        metavar="N",
        help="run time N times faster (60: a minute in a second); default $SWITCHBOARD_TIME_SCALE or 1. "
        "Divides BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, JOB_LEASE_SECONDS and CANARY_TIMEOUT_SECONDS "
        "(at least 1 s each) and CALLBACK_OVERDUE_SECONDS (at least 30 s), and runs the schedules and the "
        "alarms' periods on a clock N times faster (rate(1 hour) at 60: every minute); SQS visibility itself "
        "stays real time",
    )
    up.add_argument(
        "--schedules",
        choices=("on", "off", "startup"),
        help="Schedule events: on (first fire one period after the start), off (only `local trigger`), "
        "startup (also fire each once at start); default $SWITCHBOARD_SCHEDULES or on",
    )
    up.add_argument(
        "--alarms",
        choices=("on", "off"),
        help="evaluate the template's CloudWatch alarms on the stack clock and publish their ALARM / OK "
        "notifications to AlertsTopic; default $SWITCHBOARD_ALARMS or on",
    )
    up.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set an environment variable of the functions, over the template's (repeatable), e.g. "
        "--env RECONCILE_SAFETY_MS=900000 makes every reconciliation page end in a checkpoint",
    )
    up.set_defaults(run=local_up)

    trigger = actions.add_parser(
        "trigger",
        help="fire a function's schedule now and print the function's result as JSON",
        description="Invokes the function through the running stack (its runtime, one invocation at a "
        "time) with the EventBridge scheduled event its Schedule event would send, and prints what it "
        "returned. Exits 1 (error JSON on stderr) when the function raised.",
    )
    trigger.add_argument("function", metavar="FUNCTION_LOGICAL_ID", help="e.g. HealthCheckFunction")
    trigger.add_argument("--event-name", help="which of its Schedule events (default: the first)")
    trigger.add_argument(
        "--event", metavar="FILE", help="send this JSON file as the event instead of a scheduled event"
    )
    add_json_flag(trigger, JSON_EITHER_WAY)
    trigger.set_defaults(run=local_trigger, json_errors=True)

    invoke = actions.add_parser(
        "invoke",
        help="run a function's handler with an event file, as `sam local invoke -e` does (no Docker)",
        description="Runs the function's handler from template.yaml in the running local stack (its "
        "environment, its runtime, one invocation at a time) with EVENT_FILE as the event - the same "
        "events/ files `sam local invoke -e` takes - and prints what it returned as JSON. Exits 1 (error "
        "JSON on stderr) when the function raised. `--list` shows each function and its sample events. "
        "Samples of timestamped providers (OpenPhone, GoHighLevel) are signed for a past time and get "
        "401: `switchboard local curl` re-signs them.",
    )
    invoke.add_argument("function", nargs="?", metavar="FUNCTION_LOGICAL_ID", help="e.g. IngestFunction")
    invoke.add_argument("-e", "--event", metavar="EVENT_FILE", help="the JSON event, e.g. events/ingest/...")
    invoke.add_argument(
        "--list", action="store_true", help="the template's functions and their sample events"
    )
    add_json_flag(invoke, "--list as JSON (the result of an invocation is JSON either way)")
    invoke.set_defaults(run=local_invoke, json_errors=True)

    schedules = actions.add_parser(
        "schedules",
        help="the running stack's schedules: expression, next fire, fires so far",
    )
    add_json_flag(schedules)
    schedules.set_defaults(run=local_schedules)

    curl = actions.add_parser(
        "curl",
        help="print a curl command posting a sample webhook, signed for the running stack",
        description='Use as: eval "$(switchboard local curl twilio_inbound_sms)". SAMPLE is a name in '
        "events/payloads/ (or ingest/<name> for events/ingest/) or a path to such a file.",
    )
    curl.add_argument("sample", metavar="EVENT_NAME_OR_PATH")
    curl.add_argument(
        "--now",
        type=_unix_seconds,
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
        config = StackConfig.from_env(
            aws_request_log=args.verbose,
            time_scale=args.time_scale,
            schedules=args.schedules,
            env=args.env,
            alarms=args.alarms,
        )
        return run(config)
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


FUNCTION_ERROR = 1


def control_call(method: str, path: str, body: bytes = b"", *, timeout: float = 60) -> tuple[int, Any]:
    """A request to the running stack's control endpoint: (status, parsed JSON)."""
    import json

    import requests

    state = local_state()
    url = state.get("control_url")
    if not url:
        raise CliError(
            "the running local stack has no control endpoint (started by an older version?); restart it",
            error="not_supported",
        )
    try:
        response = requests.request(method, f"{url}{path}", data=body, timeout=timeout)
    except requests.RequestException as exc:
        raise CliError(
            f"cannot reach the local stack's control endpoint {url}: {type(exc).__name__}",
            error="unreachable",
            exit_code=2,
        ) from exc
    try:
        return response.status_code, json.loads(response.content or b"null")
    except ValueError as exc:
        raise CliError(f"the control endpoint answered {response.status_code} without JSON") from exc


def trigger_function(
    function: str, *, event_name: str | None = None, event: bytes = b"", timeout: float = 60
) -> Any:
    """Fire `function` through the local stack; its result, or a CliError (exit 1 if it raised)."""
    from urllib.parse import quote, urlencode

    query = f"?{urlencode({'event': event_name})}" if event_name else ""
    status, payload = control_call(
        "POST", f"/_local/trigger/{quote(function)}{query}", event, timeout=timeout
    )
    if status == 200:
        return payload
    payload = payload if isinstance(payload, dict) else {}
    if payload.get("error") == "function_error":
        raise CliError(
            f"{function} failed: {payload.get('errorType')}: {payload.get('errorMessage')}",
            error="function_error",
            exit_code=FUNCTION_ERROR,
        )
    raise CliError(str(payload.get("detail") or f"HTTP {status}"), error=str(payload.get("error") or "error"))


def _event_file(path: str | None) -> bytes:
    from pathlib import Path

    if not path:
        return b""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}", error="usage") from exc


def local_trigger(args: argparse.Namespace) -> int:
    from switchboard_ops.cli.output import print_json

    print_json(trigger_function(args.function, event_name=args.event_name, event=_event_file(args.event)))
    return 0


def invocable_functions() -> list[dict[str, Any]]:
    """Each function of template.yaml with its handler and the sample events under events/<code dir>/."""
    from switchboard_ops.local.functions import function_specs
    from switchboard_ops.local.template import load_template
    from switchboard_ops.project import EVENTS, ROOT

    return [
        {
            "function": logical_id,
            "handler": f"functions/{spec.code_dir}/{spec.module}.{spec.handler}",
            "events": sorted(str(path.relative_to(ROOT)) for path in (EVENTS / spec.code_dir).glob("*.json")),
        }
        for logical_id, spec in sorted(function_specs(load_template()).items())
    ]


def local_invoke(args: argparse.Namespace) -> int:
    from switchboard_ops.cli.output import print_json, table

    if args.list:
        functions = invocable_functions()
        if args.as_json:
            print_json(functions)
            return 0
        rows = [[item["function"], item["handler"], ", ".join(item["events"]) or "-"] for item in functions]
        print(table(["FUNCTION", "HANDLER", "SAMPLE EVENTS"], rows))
        return 0
    if not args.function or not args.event:
        raise CliError("give FUNCTION_LOGICAL_ID and -e EVENT_FILE (or --list)", error="usage")
    print_json(trigger_function(args.function, event=_event_file(args.event)))
    return 0


def local_schedules(args: argparse.Namespace) -> int:
    from switchboard_ops.cli.output import print_json, table

    status, payload = control_call("GET", "/_local/schedules")
    if status != 200:
        raise CliError(f"the control endpoint answered {status}")
    if args.as_json:
        print_json(payload)
        return 0
    rows = [
        [
            item["function"],
            item["event"],
            item["expression"],
            "-" if item["next_in_seconds"] is None else f"{item['next_in_seconds']:.1f}s",
            item["fired"],
            item["last_outcome"] or "-",
        ]
        for item in payload["schedules"]
    ]
    print(f"schedules: {payload['mode']}")
    print(table(["FUNCTION", "EVENT", "EXPRESSION", "NEXT IN", "FIRED", "LAST"], rows, numeric=(3, 4)))
    for problem in payload.get("not_scheduled") or ():
        print(f"not scheduled: {problem}")
    return 0
