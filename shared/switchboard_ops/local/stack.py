"""`switchboard local up`: moto's server as the embedded AWS, the template's resources provisioned in it,
the sandbox provider (Twilio's and OpenPhone's APIs) on localhost, the functions' environment set, the
HTTP API served on localhost, the SQS event-source mappings polled and the Schedule events fired by the
stack's clock, until SIGINT/SIGTERM.

Start-up order: bind the API, control and sandbox ports (fail early), start moto, provision (plus an SQS
inbox subscribed to AlertsTopic), set the environment, load the handlers (their cold start), serve, start
the pollers and the schedules, and only then write `.local/stack.json` — its presence means ready.
Stopping: remove the state, stop the schedules, let a batch in progress finish, stop the sandbox, stop
serving, stop moto.

The sandbox provider listens on 127.0.0.1:$SWITCHBOARD_SANDBOX_PORT (3001) and delivers its webhooks to
the local API. The functions see it only as configuration (`environment.sandbox_environment`): the
providers' API base URLs, the callback base URL, and the canary numbers - two numbers the sandbox owns
(SANDBOX_NUMBER_A sends, SANDBOX_NUMBER_B receives; a send to a number it owns comes back as that
number's inbound webhook, so the health check's loop really closes, and `drop_rate` really breaks it).

Time scale (`--time-scale N`, SWITCHBOARD_TIME_SCALE): the worker's backoff and lease variables and the
canary's timeout are divided by N (`environment.time_scaled`), so the retry ladder - visibility timeouts
the worker sets itself - and the health check's verification delay run N times faster while moto's clock
stays real; the schedules run on a stack clock N times faster than real time (`schedules.StackClock`).
Fault injection is on locally: a message whose text has "#fail" always fails, "#fail3" fails its first
three attempts (switchboard.services.worker.injected_fault).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from switchboard_ops.iam import calls as iam_calls
from switchboard_ops.local import api
from switchboard_ops.local.control import ControlApi, ControlServer
from switchboard_ops.local.environment import (
    aws_environment,
    function_environment,
    sandbox_environment,
    template_parameters,
    time_scaled,
)
from switchboard_ops.local.functions import FunctionSpec, ScheduleSource, function_specs
from switchboard_ops.local.moto_patches import local_stack_patches
from switchboard_ops.local.provision import StackResources, alerts_inbox, provision
from switchboard_ops.local.routes import RouteTable
from switchboard_ops.local.runtime import ACCOUNT_ID, FunctionRuntime
from switchboard_ops.local.schedules import (
    SCHEDULE_MODES,
    SCHEDULES_ENV,
    Scheduler,
    StackClock,
    scheduled_event,
)
from switchboard_ops.local.secrets import LOCAL_SECRETS, webhook_secrets_document
from switchboard_ops.local.sqs_poller import EventSourcePollers, SqsPoller
from switchboard_ops.local.state import pid_alive, read_state, remove_state, state_path, write_state
from switchboard_ops.local.template import load_template

HOST = "127.0.0.1"
REGION = "us-east-1"
PREFIX = "switchboard-local"
DEFAULT_API_PORT = 3000
DEFAULT_AWS_PORT = 4566
DEFAULT_SANDBOX_PORT = 3001
DEFAULT_CONTROL_PORT = 0  # any free port: the CLI reads it from .local/stack.json
FAULT_INJECTION = "SWITCHBOARD_FAULT_INJECTION"
LOCAL_CONCURRENCY = 1  # one poller per event source, one batch at a time across them (sqs_poller)


class LocalStackError(Exception):
    """The stack cannot start (port in use, already running, a broken function): a message, no trace."""


@dataclass(frozen=True)
class StackConfig:
    api_port: int = DEFAULT_API_PORT
    aws_port: int = DEFAULT_AWS_PORT
    host: str = HOST
    region: str = REGION
    aws_request_log: bool = False
    time_scale: float = 1.0
    sandbox_port: int = DEFAULT_SANDBOX_PORT
    control_port: int = DEFAULT_CONTROL_PORT
    schedules: str = "on"  # on | off | startup (also fire each schedule once at start)
    # --env NAME=VALUE: set last, over the template's and the time scale's values (every function).
    env_overrides: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(
        cls,
        *,
        aws_request_log: bool = False,
        time_scale: str | None = None,
        schedules: str | None = None,
        env: Sequence[str] = (),
    ) -> StackConfig:
        """Ports from the environment; the time scale from the flag, else SWITCHBOARD_TIME_SCALE, else 1;
        the schedules mode from the flag, else SWITCHBOARD_SCHEDULES, else on."""
        return cls(
            api_port=_port("SWITCHBOARD_PORT", DEFAULT_API_PORT),
            aws_port=_port("SWITCHBOARD_AWS_PORT", DEFAULT_AWS_PORT),
            aws_request_log=aws_request_log,
            time_scale=parse_time_scale(time_scale or os.environ.get("SWITCHBOARD_TIME_SCALE") or "1"),
            sandbox_port=_port("SWITCHBOARD_SANDBOX_PORT", DEFAULT_SANDBOX_PORT),
            control_port=_port("SWITCHBOARD_CONTROL_PORT", DEFAULT_CONTROL_PORT),
            schedules=parse_schedules_mode(schedules or os.environ.get(SCHEDULES_ENV) or "on"),
            env_overrides=tuple(parse_env_override(item) for item in env),
        )


def parse_schedules_mode(value: str) -> str:
    mode = value.strip().lower()
    if mode not in SCHEDULE_MODES:
        raise LocalStackError(
            f"{SCHEDULES_ENV} / --schedules must be one of {', '.join(SCHEDULE_MODES)}, not {value!r}"
        )
    return mode


def parse_env_override(value: str) -> tuple[str, str]:
    """`NAME=VALUE` (an environment variable the functions get, e.g. RECONCILE_SAFETY_MS=900000)."""
    name, equals, setting = value.partition("=")
    if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise LocalStackError(f"--env takes NAME=VALUE (a variable name, '=', its value), not {value!r}")
    return name, setting


def parse_time_scale(value: str) -> float:
    """The time scale given as text: a finite number >= 1 (1 = real time), else a LocalStackError."""
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not 1 <= scale < float("inf"):
        raise LocalStackError(f"the time scale must be a number >= 1 (1 = real time), not {value!r}")
    return int(scale) if scale.is_integer() else scale


def _port(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) > 65535:
        raise LocalStackError(f"{name} must be a port number, not {value!r}")
    return int(value)


def _check_port_free(host: str, port: int, what: str) -> None:
    """moto's server thread never reports a bind failure (start() would wait forever): check first."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LocalStackError(f"{what} port {port} on {host} is in use ({exc.strerror})") from exc


class _Moto:
    """moto's server, with moto_patches' corrections to it (unless SWITCHBOARD_MOTO_AS_SHIPPED=1) entered
    before it starts and left after it stops."""

    def __init__(self, host: str, port: int, *, request_log: bool) -> None:
        from moto.server import ThreadedMotoServer

        if not request_log:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        _check_port_free(host, port, "the AWS (moto)")
        self._patches = local_stack_patches()
        try:
            self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
            self._server.start()
        except BaseException:
            self._patches.close()
            raise
        bound_host, bound_port = self._server.get_host_and_port()
        self.url = f"http://{bound_host}:{bound_port}"

    def stop(self) -> None:
        try:
            self._server.stop()
        finally:
            self._patches.close()


def _check_not_running() -> None:
    state = read_state()
    if state and state.get("pid") != os.getpid() and pid_alive(state.get("pid")):
        raise LocalStackError(
            f"a local stack is already running (pid {state['pid']}, {state.get('api_url')}); "
            f"stop it first, or set SWITCHBOARD_STATE_DIR for a second one"
        )


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


def _state(
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
    canary = _seconds("CANARY_TIMEOUT_SECONDS")
    if scale == 1:
        return (
            f"1x, real time: worker {backoff}, {lease}; {canary} "
            "(--time-scale 60: a minute of backoff in a second)"
        )
    return (
        f"{scale}x: worker {backoff}, {lease}; {canary} (the template's values / {scale}, at least 1 s); "
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


def _banner(
    state: dict[str, Any],
    routes: RouteTable,
    pollers: list[SqsPoller],
    scheduler: Scheduler,
    notes: list[str],
    out: TextIO,
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


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _pollers(
    specs: dict[str, FunctionSpec],
    runtimes: dict[str, FunctionRuntime],
    resources: StackResources,
    session: Any,
    region: str,
    stop: threading.Event,
    notes: list[str],
    batch_lock: threading.Lock,
) -> list[SqsPoller]:
    """A poller for every enabled SQS event whose queue this stack created; a note for any other."""
    pollers = []
    for spec in specs.values():
        if spec.max_concurrency is not None and spec.max_concurrency > LOCAL_CONCURRENCY:
            notes.append(
                f"{spec.logical_id}: ScalingConfig MaximumConcurrency {spec.max_concurrency} runs as "
                f"{LOCAL_CONCURRENCY} here (one poller per event source; "
                f"SENDER_CONCURRENCY={LOCAL_CONCURRENCY})"
            )
        for source in spec.sqs_events:
            if not source.enabled:
                notes.append(
                    f"{spec.logical_id}: the SQS event on {source.queue} is disabled (Enabled: false)"
                )
            elif source.queue not in resources.queues:
                notes.append(f"{spec.logical_id}: {source.queue} is not a queue of this template; not polled")
            else:
                pollers.append(
                    SqsPoller(
                        source=source,
                        queue_url=resources.queues[source.queue],
                        queue_arn=resources.queue_arns[source.queue],
                        function=runtimes[spec.logical_id],
                        sqs=session.client("sqs"),
                        stop=stop,
                        region=region,
                        batch_lock=batch_lock,
                    )
                )
    return pollers


def _start_sandbox(config: StackConfig, api_url: str) -> Any:
    from switchboard_ops.sandbox import Sandbox

    try:
        return Sandbox(api_url, host=config.host, port=config.sandbox_port).start()
    except OSError as exc:
        raise LocalStackError(
            f"the sandbox provider port {config.sandbox_port} on {config.host} is in use ({exc.strerror}); "
            "set SWITCHBOARD_SANDBOX_PORT"
        ) from exc


def _sandbox_summary(sandbox: Any) -> dict[str, Any]:
    return {
        "url": sandbox.url,
        "twilio_numbers": list(sandbox.config.twilio_numbers),
        "openphone_numbers": dict(sandbox.config.openphone_numbers),
        "twilio_account_sid": sandbox.twilio_account_sid,
    }


def run(config: StackConfig, *, out: TextIO = sys.stdout, stop: threading.Event | None = None) -> int:
    """Start everything, block until `stop` is set (SIGINT/SIGTERM set it), then tear down."""
    from switchboard_ops.sandbox import SANDBOX_NUMBER_A, SANDBOX_NUMBER_B

    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        _stop_on_signals(stop)
    _check_not_running()
    iam_calls.install_from_env()  # before any handler loads: the test session checks what they call
    try:
        server = api.bind(config.host, config.api_port)
    except OSError as exc:
        raise LocalStackError(
            f"the API port {config.api_port} on {config.host} is in use ({exc.strerror})"
        ) from exc
    api_url = f"http://{config.host}:{server.server_address[1]}"
    moto: _Moto | None = None
    serving: threading.Thread | None = None
    polling: EventSourcePollers | None = None
    control: ControlServer | None = None
    sandbox: Any = None
    scheduler: Scheduler | None = None
    try:
        try:
            control = ControlServer(config.host, config.control_port)
        except OSError as exc:
            raise LocalStackError(
                f"the control port {config.control_port} on {config.host} is in use ({exc.strerror}); "
                "set SWITCHBOARD_CONTROL_PORT (0: any free port)"
            ) from exc
        sandbox = _start_sandbox(config, api_url)
        moto = _Moto(config.host, config.aws_port, request_log=config.aws_request_log)
        os.environ.update(aws_environment(moto.url, config.region))
        import boto3

        session = boto3.Session(region_name=config.region)
        resources = provision(
            session,
            prefix=PREFIX,
            secret_document=webhook_secrets_document(),
        )
        inbox_url = alerts_inbox(session, resources)
        template = load_template()
        specs = function_specs(template)
        parameters = template_parameters(
            template,
            {
                "PublicBaseUrl": api_url,
                "AWS::Region": config.region,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::StackName": PREFIX,
            },
        )
        local = sandbox_environment(
            sandbox_url=sandbox.url,
            api_url=api_url,
            canary_from=SANDBOX_NUMBER_A,
            canary_to=SANDBOX_NUMBER_B,
            sender_concurrency=LOCAL_CONCURRENCY,
        )
        environment, notes = function_environment(specs.values(), resources, parameters, local=local)
        environment.update(time_scaled(environment, config.time_scale))
        environment.update(dict(config.env_overrides))
        os.environ.update(environment)
        os.environ.setdefault(FAULT_INJECTION, "true")
        os.environ.update({"PUBLIC_BASE_URL": api_url, "POWERTOOLS_TRACE_DISABLED": "true"})
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Switchboard")
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "switchboard")

        runtimes = {logical_id: FunctionRuntime(spec, config.region) for logical_id, spec in specs.items()}
        routes = RouteTable(route for spec in specs.values() for route in spec.routes)
        polling_stop = threading.Event()
        # The functions share this process (see sqs_poller): SQS batches, schedules and triggers take turns.
        one_at_a_time = threading.Lock()
        pollers = _pollers(
            specs, runtimes, resources, session, config.region, polling_stop, notes, one_at_a_time
        )

        def invoke(logical_id: str, event: Any) -> Any:
            with one_at_a_time:
                return runtimes[logical_id].invoke(event)

        def fire(source: ScheduleSource) -> Any:
            return invoke(source.function, scheduled_event(source, region=config.region, account=ACCOUNT_ID))

        scheduler = Scheduler(
            [source for spec in specs.values() for source in spec.schedules],
            fire,
            StackClock(config.time_scale),
            at_start=config.schedules == "startup",
        )
        triggered = (
            {route.function for route in routes}
            | {poller.source.function for poller in pollers}
            | {source.function for spec in specs.values() for source in spec.schedules}
        )
        for logical_id in sorted(triggered):
            try:
                runtimes[logical_id].load()
            except Exception as exc:
                raise LocalStackError(f"{logical_id} failed to load: {exc!r}") from exc
        local_api = api.LocalApi(routes, runtimes, base_url=api_url)
        serving = threading.Thread(target=api.serve, args=(server, local_api), name="api", daemon=True)
        serving.start()
        active = scheduler

        def schedules() -> dict[str, Any]:
            return {
                "mode": config.schedules,
                "schedules": active.describe(),
                "not_scheduled": list(active.problems),
            }

        control.start(ControlApi(specs, fire=fire, invoke=invoke, schedules=schedules))
        if pollers:
            polling = EventSourcePollers(pollers, polling_stop)
            polling.start()
        if config.schedules != "off":
            scheduler.start()

        extras = LocalExtras(
            sandbox_url=sandbox.url,
            sandbox=_sandbox_summary(sandbox),
            control_url=control.url,
            alerts_queue_url=inbox_url,
            canary={
                "provider": environment.get("CANARY_PROVIDER", "twilio"),
                "from": SANDBOX_NUMBER_A,
                "to": SANDBOX_NUMBER_B,
                "timeout_seconds": int(environment.get("CANARY_TIMEOUT_SECONDS") or 120),
            },
            schedules=[
                {
                    "function": source.function,
                    "event": source.event,
                    "kind": source.kind,
                    "expression": source.expression,
                    "enabled": source.enabled,
                }
                for spec in specs.values()
                for source in spec.schedules
            ],
            schedules_mode=config.schedules,
        )
        state = _state(api_url, moto.url, config.region, resources, pollers, config.time_scale, extras)
        if stop.is_set():
            return 0
        write_state(state)
        _banner(state, routes, pollers, scheduler, notes, out)
        stop.wait()
        print("\nstopping the local stack", file=out, flush=True)
        return 0
    finally:
        remove_state(owner_pid=os.getpid())
        if scheduler is not None and not scheduler.stop():
            print("still busy, left behind: a scheduled invocation", file=out, flush=True)
        if polling is not None:
            busy = polling.stop()
            if busy:
                print(f"still busy, left behind: {', '.join(busy)}", file=out, flush=True)
        if sandbox is not None:
            sandbox.stop()
        if serving is not None:
            server.shutdown()
        server.server_close()
        if control is not None:
            control.stop()
        if moto is not None:
            moto.stop()
