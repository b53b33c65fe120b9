"""`switchboard reconcile run|runs` and `switchboard integrity check`: backfill from the providers'
message lists on demand, the history of runs, and the per-day provider-vs-stored comparison.

`reconcile run` invokes ReconcileFunction with the manual event {"provider"?, "hours"} - locally
through the stack's control endpoint, on AWS through the ReconcileFunctionName output - in a thread,
and shows a progress bar with the elapsed time (the share of the window done, pages, messages, new: the
reconciler saves its run record after every page). A run that stops at a checkpoint (the Lambda's time budget)
continues in a follow-up invocation of its own (the continuation queue); the CLI follows its record
until it ends. Then it prints the run's per-provider statistics. `--json` prints the summary only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from switchboard.dal.reconcile_records import ReconcileRecords
from switchboard.models.reconcile import run_summary
from switchboard.services.reconcile.integrity import MAX_DAYS as MAX_INTEGRITY_DAYS
from switchboard_ops.cli import aws
from switchboard_ops.cli.output import CliError, add_json_flag, print_json, table
from switchboard_ops.cli.target import Target, add_target_arguments, resolve

FAILED = 1
MAX_HOURS = 24 * 31  # ReconcileFunction refuses a longer manual window (functions/reconcile/app.py)
LOCAL_FUNCTION = "ReconcileFunction"
FUNCTION_OUTPUT = "ReconcileFunctionName"
INVOKE_TIMEOUT_SECONDS = 960  # the function's 900 s timeout, and some
MAX_SEGMENTS = 50  # checkpointed segments followed at most, per `reconcile run`
STALL_SECONDS = 60.0  # a checkpoint no continuation took up in this long is resumed by the CLI
POLL_SECONDS = 1.0
STAT_COLUMNS = (
    ("pages", "PAGES"),
    ("messages_processed", "PROCESSED"),
    ("new_messages", "NEW"),
    ("existing_messages", "EXISTING"),
    ("requeued", "REQUEUED"),
    ("statuses_backfilled", "STATUSES"),
    ("errors", "ERRORS"),
)
SPINNER = "|/-\\"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "reconcile", help="backfill missed messages from the providers' lists: run it, its history"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    run = actions.add_parser(
        "run",
        help="reconcile now (as the nightly schedule does)",
        description="Pages through the providers' message lists over the last --hours, stores every "
        "message Switchboard never received (and processes it), re-enqueues stored jobs that never "
        "finished, stores the final statuses of outbound messages whose status callback never came, and "
        "prints per provider: pages, messages processed, new, existing, requeued, statuses, errors. "
        "Locally it fires ReconcileFunction through the running stack; with --stack-name it invokes the "
        "deployed function (lambda:InvokeFunction). Exit 1 when another run holds the lock.",
    )
    run.add_argument(
        "--hours", type=float, default=48.0, help="the window, in hours (default 48, at most 744)"
    )
    run.add_argument("--provider", help="one provider (default: every configured provider)")
    add_json_flag(run, "the summary only, as JSON")
    add_target_arguments(run)
    run.set_defaults(run=run_reconcile)

    runs = actions.add_parser(
        "runs",
        help="the last reconciliation runs with their totals",
        description="The newest runs first: started, status, window, providers and totals.",
    )
    runs.add_argument("--limit", type=int, default=10, help="how many runs (default 10)")
    add_json_flag(runs)
    add_target_arguments(runs)
    runs.set_defaults(run=show_runs)

    integrity = commands.add_parser(
        "integrity", help="compare the providers' per-day message counts with what is stored"
    )
    checks = integrity.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = checks.add_parser(
        "check",
        help="run the integrity check now (as the weekly schedule does)",
        description="For each of the last --days whole UTC days and each provider: the provider's count, "
        "the stored count and the consistency rate; below 99.9 %% the function alerts. Exit 1 when a day "
        "is below the threshold.",
    )
    check.add_argument("--days", type=int, default=7, help="whole UTC days back (default 7, at most 31)")
    add_json_flag(check)
    add_target_arguments(check)
    check.set_defaults(run=run_integrity)


# --- invoking the function -----------------------------------------------------------------------


def manual_event(hours: float, provider: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {"action": "reconcile", "hours": hours}
    if provider:
        event["provider"] = provider
    return event


def invoke(target: Target, event: dict[str, Any]) -> Any:
    """ReconcileFunction's result for `event`, locally or on the deployed stack."""
    if target.is_local:
        from switchboard_ops.cli.local import trigger_function

        return trigger_function(
            LOCAL_FUNCTION, event=json.dumps(event).encode(), timeout=INVOKE_TIMEOUT_SECONDS
        )
    name = target.outputs.get(FUNCTION_OUTPUT)
    if not name:
        raise CliError(f"stack {target.name} has no {FUNCTION_OUTPUT} output", error="not_supported")
    import boto3
    from botocore.config import Config

    # Not aws.client: its 10 s read timeout would cut a synchronous invocation of up to 900 s short.
    lambda_client = boto3.Session(region_name=target.region).client(
        "lambda",
        config=Config(connect_timeout=5, read_timeout=INVOKE_TIMEOUT_SECONDS, retries={"max_attempts": 0}),
    )
    with aws.translated(f"invoke {name}"):
        response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        detail = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise CliError(f"{name} failed: {detail}", error="function_error", exit_code=FAILED)
    return payload


def _checked(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict) or "status" not in result:
        raise CliError(f"ReconcileFunction answered {json.dumps(result)[:200]}", error="unexpected_result")
    return result


def reconcile(
    target: Target,
    event: dict[str, Any],
    *,
    read_run: Callable[[str], dict[str, Any] | None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Invoke. A run that checkpoints continues by itself (the function hands its checkpoint to its
    continuation queue), so its record is followed until it ends; a checkpoint nobody takes up within
    STALL_SECONDS (a deployment without the continuation queue, a consumer that is off) is resumed from
    here - the lock hand-over makes sure only one of the two continues it."""
    result = _checked(invoke(target, event))
    read = read_run or _run_reader(target)
    for _ in range(MAX_SEGMENTS):
        if result["status"] != "checkpointed":
            return result
        result = _follow(target, str(result["checkpoint"]["run"]), read, clock, sleep)
    return result


def _run_reader(target: Target) -> Callable[[str], dict[str, Any] | None]:
    records = ReconcileRecords(target.table_name, dynamodb=target.client("dynamodb"))
    return records.get_run


def _follow(
    target: Target,
    sk: str,
    read: Callable[[str], dict[str, Any] | None],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """Poll the run's record until it ends (its summary) or stalls at a checkpoint (resume it)."""
    seen: tuple[Any, ...] = ()
    since = clock()
    while True:
        with aws.translated("read the reconciliation run"):
            record = read(sk)
        if record is None:
            raise CliError(f"run {sk} has no record", error="unexpected_result")
        status = record.get("status")
        if status not in ("checkpointed", "running"):
            return {"status": status, **run_summary(record)}
        marker = (status, (record.get("checkpoint") or {}).get("lock"), json.dumps(record.get("stats")))
        if marker != seen:
            seen, since = marker, clock()
        elif status == "checkpointed" and clock() - since >= STALL_SECONDS:
            answer = _checked(invoke(target, {"resume_from": record["checkpoint"]}))
            if answer["status"] not in ("locked", "skipped"):  # else: the continuation got there first
                return answer
            seen = ()
        elif clock() - since >= INVOKE_TIMEOUT_SECONDS:
            raise CliError(
                f"run {sk} has not moved for {INVOKE_TIMEOUT_SECONDS} s ({status})", error="stalled"
            )
        sleep(POLL_SECONDS)


def run_with_spinner(
    work: Callable[[], dict[str, Any]],
    *,
    out: TextIO | None = None,
    interval: float = 0.2,
    label: str = "reconciling",
    progress: Callable[[], str] | None = None,
) -> dict[str, Any]:
    """`work()` in a thread; meanwhile a spinner with the elapsed time on `out` (when not None)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="reconcile-invoke", daemon=True)
    started = time.monotonic()
    thread.start()
    status, polled = "", 0.0
    for frame in itertools.cycle(SPINNER):
        thread.join(interval)
        if not thread.is_alive():
            break
        if out is not None:
            if progress is not None and time.monotonic() - polled >= 1:
                status, polled = progress(), time.monotonic()
            out.write(f"\r{frame} {label}  {time.monotonic() - started:6.1f} s  {status}")
            out.flush()
    if out is not None:
        out.write(f"\r{' ' * (len(label) + 16 + len(status))}\r")
        out.flush()
    if "error" in outcome:
        raise outcome["error"]
    return dict(outcome["value"])


# --- rendering -----------------------------------------------------------------------------------


def _number(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f} s"


def totals_of(stats: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {key: sum(_number(values.get(key)) for values in stats.values()) for key, _ in STAT_COLUMNS}


def render_run(summary: dict[str, Any]) -> str:
    """The per-provider table of a run summary (the function's answer or a run record)."""
    stats: dict[str, dict[str, Any]] = summary.get("stats") or {}
    headers = ["PROVIDER", *(title for _, title in STAT_COLUMNS), "DURATION"]
    rows: list[list[Any]] = [
        [name, *(_number(values.get(key)) for key, _ in STAT_COLUMNS), "-"] for name, values in stats.items()
    ]
    totals = summary.get("totals") or totals_of(stats)
    duration = summary.get("duration_seconds", summary.get("elapsed_seconds"))
    rows.append(["TOTAL", *(_number(totals.get(key)) for key, _ in STAT_COLUMNS), _seconds(duration)])
    status = summary.get("status", "completed")
    window = f"{summary.get('window_start', '?')} .. {summary.get('window_end', '?')}"
    lines = [
        f"run {summary.get('run') or summary.get('sk')}  {status}  window {window}",
        "",
        table(headers, rows, numeric=tuple(range(1, len(headers)))),
    ]
    if len(stats) > 1:
        lines.append("\n(the reconciler times the run, not each provider: DURATION is the run's)")
    return "\n".join(lines)


def describe_run(record: dict[str, Any]) -> dict[str, Any]:
    stats = record.get("stats") or {}
    return {
        "run": record.get("sk"),
        "status": record.get("status"),
        "started": record.get("started"),
        "finished": record.get("finished"),
        "window_hours": record.get("window_hours"),
        "providers": list(record.get("providers") or stats),
        "totals": record.get("totals") or totals_of(stats),
        "duration_seconds": record.get("duration_seconds", record.get("elapsed_seconds")),
    }


def render_runs(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "no reconciliation runs yet (switchboard reconcile run starts one)"
    headers = ["STARTED", "STATUS", "HOURS", "PROVIDERS", *(title for _, title in STAT_COLUMNS), "DURATION"]
    rows = [
        [
            run["started"] or "-",
            run["status"] or "-",
            "-" if run["window_hours"] is None else f"{float(run['window_hours']):g}",
            ",".join(run["providers"]) or "-",
            *(_number(run["totals"].get(key)) for key, _ in STAT_COLUMNS),
            _seconds(run["duration_seconds"]),
        ]
        for run in runs
    ]
    return table(headers, rows, numeric=(2, *range(4, len(headers))))


def integrity_summary(result: dict[str, Any]) -> dict[str, Any]:
    """The function's answer plus the overall consistency rate (stored share of every listed message)."""
    days = list(result.get("days") or [])
    listed = sum(_number(row.get("provider_count")) for row in days)
    stored = sum(min(_number(row.get("stored_count")), _number(row.get("provider_count"))) for row in days)
    return {
        **result,
        "days": days,
        "provider_count": listed,
        "stored_count": sum(_number(row.get("stored_count")) for row in days),
        "consistency": 1.0 if listed == 0 else stored / listed,
    }


def render_integrity(summary: dict[str, Any]) -> str:
    headers = ["DAY", "PROVIDER", "PROVIDER COUNT", "STORED", "CONSISTENCY"]
    rows = [
        [
            row.get("day"),
            row.get("provider"),
            _number(row.get("provider_count")),
            _number(row.get("stored_count")),
            f"{float(row.get('consistency', 1.0)):.2%}",
        ]
        for row in summary["days"]
    ]
    below = _number(summary.get("below_threshold"))
    lines = [
        table(headers, rows, numeric=(2, 3, 4)) if rows else "no days checked",
        "",
        f"overall: {summary['stored_count']} stored of {summary['provider_count']} listed, "
        f"consistency {summary['consistency']:.2%}"
        + (f"; {below} day(s) below the threshold (alerted)" if below else "; every day at threshold"),
    ]
    return "\n".join(lines)


# --- the commands ----------------------------------------------------------------------------------


def _progress_of_latest_run(target: Target) -> Callable[[], str]:
    """The newest run record's counts (the reconciler saves them after every page) as a progress line."""
    records = ReconcileRecords(target.table_name, dynamodb=target.client("dynamodb"))
    began = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 2))

    def line() -> str:
        try:
            runs = records.list_runs(1)
        except Exception:  # noqa: BLE001 - progress is best effort; the run's own answer is what counts
            return ""
        if not runs or str(runs[0].get("started", "")) < began:
            return "starting"
        return progress_line(runs[0])

    return line


def progress_line(run: dict[str, Any], width: int = 20) -> str:
    """A run record in progress as `[#####---------------]  25%  twilio  pages 3  messages 300  new 2`;
    the bar is the run's estimate of its window done (see Reconciler: finished providers, and how far back
    a newest-first list has come), so it never moves back."""
    totals = totals_of(run.get("stats") or {})
    providers = list(run.get("providers") or [])
    position = _number(run.get("position"))
    current = providers[position] if position < len(providers) else ""
    try:
        done = min(1.0, max(0.0, float(run.get("done") or 0.0)))
    except (TypeError, ValueError):
        done = 0.0
    filled = round(done * width)
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {done:4.0%}  {current}  pages {totals.get('pages', 0)}  "
        f"messages {totals.get('messages_processed', 0)}  new {totals.get('new_messages', 0)}"
    )


def run_reconcile(args: argparse.Namespace) -> int:
    if not 0 < args.hours <= MAX_HOURS:
        raise CliError(f"--hours must be a positive number, at most {MAX_HOURS}", error="usage")
    target = resolve(args)
    event = manual_event(args.hours, args.provider)
    show = None if args.as_json or not sys.stderr.isatty() else sys.stderr
    summary = run_with_spinner(
        lambda: reconcile(target, event), out=show, progress=_progress_of_latest_run(target)
    )
    if summary["status"] == "locked":
        raise CliError(
            "another reconciliation run holds the lock (pk RECONCILE, sk LOCK): try again when it ends",
            error="locked",
            exit_code=FAILED,
        )
    if args.as_json:
        print_json(summary)
    else:
        print(render_run(summary))
    return 0 if summary["status"] == "completed" else FAILED


def show_runs(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CliError("--limit must be at least 1", error="usage")
    target = resolve(args)
    records = ReconcileRecords(target.table_name, dynamodb=target.client("dynamodb"))
    with aws.translated("read the reconciliation runs"):
        runs = [describe_run(record) for record in records.list_runs(args.limit)]
    if args.as_json:
        print_json(runs)
    else:
        print(render_runs(runs))
    return 0


def run_integrity(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= MAX_INTEGRITY_DAYS:
        raise CliError(f"--days must be from 1 to {MAX_INTEGRITY_DAYS}", error="usage")
    target = resolve(args)
    summary = integrity_summary(_checked(invoke(target, {"action": "integrity", "days": args.days})))
    if args.as_json:
        print_json(summary)
    else:
        print(render_integrity(summary))
    return FAILED if _number(summary.get("below_threshold")) else 0
