"""What a started local stack tells: `.local/stack.json` (the state the CLI and tests read) and the banner
`switchboard local up` prints (routes, queues, schedules, timing, notes)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from switchboard_ops.local.provision import StackResources
from switchboard_ops.local.routes import RouteTable
from switchboard_ops.local.schedules import Scheduler
from switchboard_ops.local.secrets import LOCAL_SECRETS
from switchboard_ops.local.sqs_poller import SqsPoller
from switchboard_ops.local.state import state_path

FAULT_INJECTION = "SWITCHBOARD_FAULT_INJECTION"


@dataclass(frozen=True)
class LocalExtras:
    """What the local stack adds around the template: the sandbox, the control endpoint, the alerts inbox,
    the canary and the schedules (all written to stack.json)."""

    sandbox_url: str
    sandbox: dict[str, Any]
    control_url: str
    alerts_queue_url: str
    canary: dict[str, Any]
    schedules: list[dict[str, Any]]
    schedules_mode: str


def stack_state(
    api_url: str,
    aws_url: str,
    region: str,
    resources: StackResources,
    pollers: list[SqsPoller],
    scale: float,
    extras: LocalExtras,
) -> dict[str, Any]:
    return {
        "api_url": api_url,
        "aws_endpoint_url": aws_url,
        "region": region,
        "table_name": resources.tables["EventsTable"],
        "queues": dict(resources.queues),
        "secrets": LOCAL_SECRETS,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pid": os.getpid(),
        "tables": dict(resources.tables),
        "topics": dict(resources.topics),
        "secret_arns": dict(resources.secrets),
        "parameters": dict(resources.parameters),
        "time_scale": scale,
        "fault_injection": os.environ.get(FAULT_INJECTION, ""),
        "event_sources": [
            {
                "function": poller.source.function,
                "queue": poller.source.queue,
                "batch_size": poller.source.batch_size,
                "report_batch_item_failures": poller.source.report_batch_item_failures,
            }
            for poller in pollers
        ],
        "sandbox_url": extras.sandbox_url,
        "sandbox": extras.sandbox,
        "control_url": extras.control_url,
        "alerts_queue_url": extras.alerts_queue_url,
        "canary": extras.canary,
        "schedules": extras.schedules,
        "schedules_mode": extras.schedules_mode,
    }


def _seconds(name: str) -> str:
    return f"{name}={os.environ[name]}" if name in os.environ else f"{name} unset"


def _timing(scale: float) -> str:
    backoff = f"{_seconds('BACKOFF_BASE_SECONDS')}, {_seconds('BACKOFF_CAP_SECONDS')}"
    lease = _seconds("JOB_LEASE_SECONDS")
    canary = f"{_seconds('CANARY_TIMEOUT_SECONDS')}, {_seconds('CALLBACK_OVERDUE_SECONDS')}"
    if scale == 1:
        return (
            f"1x, real time: worker {backoff}, {lease}; {canary} "
            "(--time-scale 60: a minute of backoff in a second)"
        )
    return (
        f"{scale}x: worker {backoff}, {lease}; {canary} (the template's values / {scale}, at least 1 s; "
        "the overdue threshold at least 30 s); "
        f"schedules on a clock {scale}x faster; SQS visibility itself is real time"
    )


def _when(timer: dict[str, Any]) -> str:
    seconds = timer["real_period_seconds"]
    if seconds is None:
        if timer["next_in_seconds"] is None:
            return "never again"
        return f"next at {timer['next_at_stack_time']} stack time, in {timer['next_in_seconds']:.0f} s"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"every {int(seconds // 3600)} h real time"
    if seconds >= 60 and seconds % 60 == 0:
        return f"every {int(seconds // 60)} min real time"
    return f"every {seconds:g} s real time"


def banner(
    state: dict[str, Any],
    routes: RouteTable,
    pollers: list[SqsPoller],
    scheduler: Scheduler,
    notes: list[str],
    out: TextIO,
    alarms: Sequence[str] = (),
) -> None:
    lines = ["", "Switchboard local stack is up (Ctrl-C to stop)"]
    for route in routes:
        lines.append(f"  API         {route.route_key:<32} {state['api_url']}  -> {route.function}")
    for poller in pollers:
        source = poller.source
        partial = ", partial batch responses" if source.report_batch_item_failures else ""
        lines.append(
            f"  SQS         {source.queue:<32} batch {source.batch_size}{partial}  -> {source.function}"
        )
    mode = state["schedules_mode"]
    for timer in scheduler.describe():
        when = "off (SWITCHBOARD_SCHEDULES=off)" if mode == "off" else _when(timer)
        if mode == "startup":
            when += ", and once at start"
        lines.append(
            f"  schedule    {timer['expression']:<32} {when}  -> {timer['function']} ({timer['event']})"
        )
    faults = state.get("fault_injection") == "true"
    canary = state["canary"]
    sandbox = state["sandbox"]
    lines += [
        f"  time scale  {_timing(state['time_scale'])}",
        f"  faults      {FAULT_INJECTION}={state.get('fault_injection') or 'unset'}"
        + (
            ": a message whose text has #fail always fails, #fail3 fails its first 3 attempts"
            if faults
            else ""
        ),
        f"  sandbox     {state['sandbox_url']}  Twilio + OpenPhone APIs; owns "
        f'{", ".join(sandbox["twilio_numbers"])}; POST /sandbox/config {{"drop_rate": 1}} drops webhooks',
        f"  canary      {canary['from']} -> {canary['to']} via {canary['provider']}, "
        f"judged after {canary['timeout_seconds']} s: switchboard health run --wait",
        f"  alerts      AlertsTopic -> SQS {state['alerts_queue_url'].rsplit('/', 1)[-1]}: "
        "switchboard alerts list",
        *(f"  {line}" for line in alarms),
        f"  control     {state['control_url']}  switchboard local trigger <FunctionLogicalId>",
    ]
    lines += [
        f"  AWS (moto)  {state['aws_endpoint_url']}  region {state['region']}",
        f"  table       {state['table_name']}",
        f"  queues      {', '.join(state['queues'])}",
        f"  state       {state_path()}",
        *(f"  note        {note}" for note in [*notes, *scheduler.problems]),
        "",
        "Try it:",
        '  eval "$(switchboard local curl twilio_inbound_sms)"',
        "  switchboard messages get --provider twilio --id SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8",
        "  eval \"$(switchboard local curl twilio_inbound_sms --body 'Yes #fail')\"  # retries, then the DLQ",
        "  switchboard dlq list; switchboard dlq redrive --all; switchboard jobs stats; switchboard status",
        "  switchboard health run --wait; switchboard health stats",
        "  switchboard send --to +14155550142 --body 'Hello from Switchboard' --wait",
        f"  curl -s {state['sandbox_url']}/sandbox/config -d '{{\"drop_rate\": 1}}'; "
        "switchboard health run --wait; switchboard alerts list",
        "",
    ]
    print("\n".join(lines), file=out, flush=True)
