"""`switchboard health run [--wait]` and `switchboard health stats`: the end-to-end canary.

`run` starts a check the way its schedule does - locally through the stack's control endpoint
(`local trigger HealthCheckFunction`), on AWS by invoking the HealthCheckFunctionName output - and with
`--wait` polls the check's HealthRecords item until it is judged: exit 0 passed, 1 failed (2: not judged
within --timeout). `stats` reads the history (one partition, sorted by token = start time) since N days ago.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from typing import Any

from switchboard.dal.health_records import HealthRecords
from switchboard.services.health import health_stats
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import CliError, add_json_flag, print_json, table
from switchboard_ops.cli.target import Target, add_target_arguments, resolve
from switchboard_ops.cli.waiting import poll, timeout_seconds

FAILED = 1
LOCAL_FUNCTION = "HealthCheckFunction"
FUNCTION_OUTPUT = "HealthCheckFunctionName"
DEPLOYED_TIMEOUT_SECONDS = 120  # the template's CANARY_TIMEOUT_SECONDS
SLACK_SECONDS = 30  # the verification's SQS delay ends, then a poll and the function's run
JUDGED = ("passed", "failed")
MAX_WINDOW_DAYS = 400  # history is kept 30 days; a longer window only has to stay a date (year 1 and up)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("health", help="the end-to-end health check: run it, its statistics")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    run = actions.add_parser(
        "run",
        help="start a health check now (as the hourly schedule does)",
        description="Sends a canary message through the outbound path to the monitored number and prints "
        "its token; the check is judged when its inbound webhook has had CANARY_TIMEOUT_SECONDS to come "
        "back. With --wait, polls until it is judged and prints status and latency: exit 0 passed, 1 "
        "failed, 2 not judged within --timeout. Locally it fires HealthCheckFunction through the running "
        "stack; with --stack-name it invokes the deployed function (lambda:InvokeFunction).",
    )
    run.add_argument("--wait", action="store_true", help="wait for the verdict")
    run.add_argument(
        "--timeout",
        type=timeout_seconds,
        metavar="SECONDS",
        help="how long --wait waits (default: the canary timeout + 30 s; 150 s for a deployed stack)",
    )
    add_json_flag(run)
    add_target_arguments(run)
    run.set_defaults(run=run_check)

    stats = actions.add_parser(
        "stats",
        help="health checks over the last N days: total, passed, failed, success rate, latency",
        description="Total / passed / failed / success rate / last failure / latency p50 and p95 of the "
        "checks started in the window (judged ones; 'in progress' counts those not judged yet). History "
        "is kept 30 days.",
    )
    window = stats.add_mutually_exclusive_group()
    window.add_argument("--days", type=float, default=None, help="the window, in days (default 30)")
    window.add_argument("--hours", type=float, default=None, help="the window, in hours (e.g. 24)")
    add_json_flag(stats)
    add_target_arguments(stats)
    stats.set_defaults(run=show_stats)


def _records(target: Target) -> HealthRecords:
    return HealthRecords(target.table_name, dynamodb=target.client("dynamodb"))


def start_check(target: Target) -> dict[str, Any]:
    """What the health check function returned: {"status": "sent", "token": ...} or not_configured."""
    if target.is_local:
        from switchboard_ops.cli.local import trigger_function

        result = trigger_function(LOCAL_FUNCTION)
    else:
        result = _invoke_deployed(target)
    if not isinstance(result, dict) or "status" not in result:
        raise CliError(f"the health check answered {json.dumps(result)[:200]}", error="unexpected_result")
    return result


def _invoke_deployed(target: Target) -> Any:
    """lambda:InvokeFunction on the HealthCheckFunctionName output, with a scheduled-event-shaped event."""
    import uuid

    name = target.outputs.get(FUNCTION_OUTPUT)
    if not name:
        raise CliError(f"stack {target.name} has no {FUNCTION_OUTPUT} output", error="not_supported")
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "switchboard.cli",
        "time": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": target.region,
        "resources": [],
        "detail": {"trigger": "switchboard health run"},
    }
    client = target.client("lambda")
    with aws.translated(f"invoke {name}"):
        response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        detail = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise CliError(f"{name} failed: {detail}", error="function_error", exit_code=FAILED)
    return payload


def _default_timeout(target: Target) -> float:
    if target.is_local:
        canary = target.state.get("canary") or {}
        return float(canary.get("timeout_seconds") or DEPLOYED_TIMEOUT_SECONDS) + SLACK_SECONDS
    return float(DEPLOYED_TIMEOUT_SECONDS + SLACK_SECONDS)


def _iso(milliseconds: Any) -> str | None:
    if milliseconds is None:
        return None
    return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC).isoformat(timespec="milliseconds")


def describe(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": record.get("token"),
        "status": record.get("status"),
        "latency_ms": record.get("latency_ms"),
        "provider": record.get("provider"),
        "started_at": _iso(record.get("started_at")),
        "received_at": _iso(record.get("received_at")),
        "verified_at": _iso(record.get("verified_at")),
    }


def run_check(args: argparse.Namespace) -> int:
    target = resolve(args)
    started = start_check(target)
    token = started.get("token")
    if started["status"] != "sent" or not token:
        detail = (
            "the canary numbers are not set (CANARY_FROM_NUMBER / CANARY_TO_NUMBER: the CanaryFromNumber "
            "and CanaryToNumber parameters)"
            if started["status"] == "not_configured"
            else json.dumps(started)
        )
        raise CliError(
            f"the health check did not start: {detail}", error=str(started["status"]), exit_code=FAILED
        )
    if not args.wait:
        if args.as_json:
            print_json({"token": token, "status": "sent"})
        else:
            print(f"token {token}  status sent  (switchboard health run --wait waits for the verdict)")
        return 0
    if not args.as_json:
        print(f"token {token}  status sent", flush=True)
    records = _records(target)

    def fetch() -> dict[str, Any]:
        with aws.translated("read the health check"):
            return records.get(token) or {"token": token, "status": "unknown"}

    timeout = args.timeout if args.timeout is not None else _default_timeout(target)
    record = poll(
        fetch,
        lambda item: item.get("status") in JUDGED,
        timeout=timeout,
        what=f"health check {token}",
        describe=lambda item: str(item.get("status")),
    )
    described = describe(record)
    if args.as_json:
        print_json(described)
    else:
        latency = f"{described['latency_ms']} ms" if described["latency_ms"] is not None else "-"
        print(f"token {token}  status {described['status']}  latency {latency}")
    return 0 if described["status"] == "passed" else FAILED


def collect(target: Target, days: float, now: float | None = None) -> dict[str, Any]:
    from switchboard.canary import new_token

    now = time.time() if now is None else now
    since = now - days * 86400
    since_token = new_token(since).split("-", 1)[0]  # the zero-padded start time: tokens sort by it
    with aws.translated("read the health check history"):
        history = _records(target).history(since_token)
    stats = health_stats(history)
    return {
        "days": days,
        "since": datetime.fromtimestamp(since, tz=UTC).isoformat(timespec="seconds"),
        "since_token": since_token,
        **stats,
        "in_progress": sum(1 for check in history if check.get("status") not in JUDGED),
        "last_check": describe(history[-1]) if history else None,
    }


def render(stats: dict[str, Any]) -> str:
    def ms(value: Any) -> str:
        return "-" if value is None else f"{value} ms"

    rate = "-" if stats["success_rate"] is None else f"{stats['success_rate']} %"
    headers = ["TOTAL", "PASSED", "FAILED", "SUCCESS RATE", "P50 LATENCY", "P95 LATENCY", "IN PROGRESS"]
    row = [
        stats["total"],
        stats["passed"],
        stats["failed"],
        rate,
        ms(stats["latency_p50_ms"]),
        ms(stats["latency_p95_ms"]),
        stats["in_progress"],
    ]
    days = f"{stats['days']:g}"
    lines = [
        f"Health checks over the last {days} day{'s' if days != '1' else ''} (since {stats['since']})",
        "",
        table(headers, [row], numeric=tuple(range(len(headers)))),
    ]
    if stats["last_failure"]:
        lines.append(f"\nlast failure: {stats['last_failure']}")
    last = stats["last_check"]
    if last:
        lines.append(f"last check:   {last['token']} {last['status']} (started {last['started_at']})")
    return "\n".join(lines)


def show_stats(args: argparse.Namespace) -> int:
    days = args.hours / 24 if args.hours is not None else 30.0 if args.days is None else args.days
    if not 0 < days <= MAX_WINDOW_DAYS:
        raise CliError(
            f"--days / --hours must be a positive number, at most {MAX_WINDOW_DAYS} days", error="usage"
        )
    stats = collect(resolve(args), days)
    if args.as_json:
        print_json(stats)
    else:
        print(render(stats))
    return 0
