"""`switchboard local up`: moto's server as the embedded AWS, the template's resources provisioned in it,
the sandbox provider (Twilio's and OpenPhone's APIs) on localhost, the functions' environment set, the
HTTP API served on localhost, the SQS event-source mappings polled and the Schedule events fired by the
stack's clock, until SIGINT/SIGTERM.

Start-up order, one named step each (see `run`): bind the API, control and sandbox ports (fail early),
start moto, provision (plus an SQS inbox subscribed to AlertsTopic), wire the functions (their environment,
runtimes, routes, pollers, schedules), load the handlers (their cold start), serve (API, control, pollers,
schedules), and only then write `.local/stack.json` (announce.py) — its presence means ready. Stopping
(`_Running.stop`): remove the state, stop the schedules, let a batch in progress finish, stop the sandbox,
stop serving, stop moto.

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
import math
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
from switchboard_ops.local.alarm_evaluator import AlarmEvaluator, provision_alarms
from switchboard_ops.local.alarm_rules import alarm_specs
from switchboard_ops.local.announce import FAULT_INJECTION, LocalExtras, banner, stack_state
from switchboard_ops.local.control import ControlApi, ControlServer
from switchboard_ops.local.emf import EmfCapture
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
from switchboard_ops.local.queue_metrics import QueueMetrics, queue_names
from switchboard_ops.local.routes import RouteTable
from switchboard_ops.local.runtime import ACCOUNT_ID, FunctionRuntime
from switchboard_ops.local.schedules import (
    SCHEDULE_MODES,
    SCHEDULES_ENV,
    Scheduler,
    StackClock,
    scheduled_event,
)
from switchboard_ops.local.secrets import webhook_secrets_document
from switchboard_ops.local.sqs_poller import EventSourcePollers, SqsPoller
from switchboard_ops.local.state import pid_alive, read_state, remove_state, write_state
from switchboard_ops.local.template import load_template

HOST = "127.0.0.1"
REGION = "us-east-1"
PREFIX = "switchboard-local"
DEFAULT_API_PORT = 3000
DEFAULT_AWS_PORT = 4566
DEFAULT_SANDBOX_PORT = 3001
DEFAULT_CONTROL_PORT = 0  # any free port: the CLI reads it from .local/stack.json
ALARMS_ENV = "SWITCHBOARD_ALARMS"
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
    alarms: bool = True  # evaluate the template's alarms (alarm_evaluator.py); --alarms off
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
        alarms: str | None = None,
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
            alarms=parse_alarms_mode(alarms or os.environ.get(ALARMS_ENV) or "on"),
        )


def parse_alarms_mode(value: str) -> bool:
    mode = value.strip().lower()
    if mode not in ("on", "off"):
        raise LocalStackError(f"{ALARMS_ENV} / --alarms must be on or off, not {value!r}")
    return mode == "on"


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


@dataclass
class _Running:
    """What the start steps started, in start order; `stop` tears down whatever is there, in reverse."""

    server: Any  # the bound API server (ThreadingHTTPServer)
    api_url: str
    control: ControlServer | None = None
    sandbox: Any = None
    moto: _Moto | None = None
    serving: threading.Thread | None = None
    polling: EventSourcePollers | None = None
    scheduler: Scheduler | None = None
    emf: EmfCapture | None = None
    alarms: AlarmEvaluator | None = None

    def stop(self, out: TextIO) -> None:
        remove_state(owner_pid=os.getpid())
        if self.scheduler is not None and not self.scheduler.stop():
            print("still busy, left behind: a scheduled invocation", file=out, flush=True)
        if self.polling is not None:
            busy = self.polling.stop()
            if busy:
                print(f"still busy, left behind: {', '.join(busy)}", file=out, flush=True)
        if self.alarms is not None:
            self.alarms.stop()
        if self.emf is not None:
            self.emf.close()
        if self.sandbox is not None:
            self.sandbox.stop()
        if self.serving is not None:
            self.server.shutdown()
        self.server.server_close()
        if self.control is not None:
            self.control.stop()
        if self.moto is not None:
            self.moto.stop()


@dataclass
class _Functions:
    """The template's functions wired to the stack: runtimes, routes, pollers, schedules, invokers."""

    specs: dict[str, FunctionSpec]
    environment: dict[str, str]
    notes: list[str]
    runtimes: dict[str, FunctionRuntime]
    routes: RouteTable
    pollers: list[SqsPoller]
    scheduler: Scheduler
    invoke: Any  # (logical id, event) -> result, one invocation at a time
    fire: Any  # (schedule source) -> result
    polling_stop: threading.Event


def _bind_api(config: StackConfig) -> _Running:
    try:
        server = api.bind(config.host, config.api_port)
    except OSError as exc:
        raise LocalStackError(
            f"the API port {config.api_port} on {config.host} is in use ({exc.strerror})"
        ) from exc
    return _Running(server=server, api_url=f"http://{config.host}:{server.server_address[1]}")


def _start_control(config: StackConfig) -> ControlServer:
    try:
        return ControlServer(config.host, config.control_port)
    except OSError as exc:
        raise LocalStackError(
            f"the control port {config.control_port} on {config.host} is in use ({exc.strerror}); "
            "set SWITCHBOARD_CONTROL_PORT (0: any free port)"
        ) from exc


def _start_moto(config: StackConfig) -> _Moto:
    """moto's server, and this process's AWS environment pointed at it."""
    moto = _Moto(config.host, config.aws_port, request_log=config.aws_request_log)
    os.environ.update(aws_environment(moto.url, config.region))
    return moto


def _configure_functions(
    config: StackConfig, specs: dict[str, FunctionSpec], resources: StackResources, api_url: str, sandbox: Any
) -> tuple[dict[str, str], list[str]]:
    """The functions' environment (template values resolved, the sandbox's URLs, the time scale, --env),
    set in this process, where the handlers run; plus notes on what could not be resolved."""
    from switchboard_ops.sandbox import SANDBOX_NUMBER_A, SANDBOX_NUMBER_B

    parameters = template_parameters(
        load_template(),
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
    return environment, notes


def _wire_functions(
    config: StackConfig, running: _Running, resources: StackResources, session: Any
) -> _Functions:
    specs = function_specs(load_template())
    environment, notes = _configure_functions(config, specs, resources, running.api_url, running.sandbox)
    runtimes = {logical_id: FunctionRuntime(spec, config.region) for logical_id, spec in specs.items()}
    routes = RouteTable(route for spec in specs.values() for route in spec.routes)
    polling_stop = threading.Event()
    # The functions share this process (see sqs_poller): SQS batches, schedules and triggers take turns.
    one_at_a_time = threading.Lock()
    pollers = _pollers(specs, runtimes, resources, session, config.region, polling_stop, notes, one_at_a_time)

    def invoke(logical_id: str, event: Any) -> Any:
        with one_at_a_time:
            return runtimes[logical_id].invoke(event)

    def fire(source: ScheduleSource) -> Any:
        return invoke(source.function, scheduled_event(source, region=config.region, account=ACCOUNT_ID))

    scheduler = Scheduler(
        [source for spec in specs.values() for source in spec.schedules],
        fire,
        _whole_second_clock(config.time_scale),
        at_start=config.schedules == "startup",
    )
    return _Functions(
        specs, environment, notes, runtimes, routes, pollers, scheduler, invoke, fire, polling_stop
    )


def _whole_second_clock(scale: float) -> StackClock:
    """The stack clock, started on a whole real second: the alarm evaluator's periods (whole seconds,
    because moto reads metric time so) then start where the rate schedules fire (alarm_evaluator.py)."""
    now = time.time()
    time.sleep(math.ceil(now) - now)
    return StackClock(scale)


def _start_alarms(
    config: StackConfig, running: _Running, functions: _Functions, resources: StackResources, session: Any
) -> list[str]:
    """EMF -> moto, the template's alarms created in moto and evaluated on the stack clock; the notes for
    the banner: which alarms are evaluated, which are not and why."""
    running.emf = EmfCapture(session.client("cloudwatch"))
    if not config.alarms:
        return ["alarms      not evaluated (--alarms off); EMF metrics still reach moto's CloudWatch"]
    template = load_template()
    parameters = template_parameters(template, queue_names(resources.queues))
    specs, skipped = alarm_specs(template, parameters)
    provision_alarms(session.client("cloudwatch"), PREFIX, specs, resources.topics)
    emf = running.emf
    queues = QueueMetrics(session.client("sqs"), session.client("cloudwatch"), resources.queues)

    def before_read() -> None:
        queues.publish(time.time())
        emf.publisher.flush(1.0)

    running.alarms = AlarmEvaluator(
        specs,
        cloudwatch=session.client("cloudwatch"),
        sns=session.client("sns"),
        topics=resources.topics,
        prefix=PREFIX,
        scale=config.time_scale,
        anchor=functions.scheduler.clock.started_wall,
        region=config.region,
        account=ACCOUNT_ID,
        before_read=before_read,
    )
    running.alarms.start()
    lines = [
        f"alarms      evaluated every {running.alarms.tick_seconds} s real time: "
        + ", ".join(spec.logical_id for spec in specs)
    ]
    by_reason: dict[str, list[str]] = {}
    for name, why in sorted(skipped.items()):
        by_reason.setdefault(why, []).append(name)
    lines += [
        f"alarms      not evaluated locally, {why}: {', '.join(names)}" for why, names in by_reason.items()
    ]
    return lines


def _load_handlers(functions: _Functions) -> None:
    """Every function something can trigger is loaded now (its cold start): a broken one fails the start."""
    triggered = (
        {route.function for route in functions.routes}
        | {poller.source.function for poller in functions.pollers}
        | {source.function for spec in functions.specs.values() for source in spec.schedules}
    )
    for logical_id in sorted(triggered):
        try:
            functions.runtimes[logical_id].load()
        except Exception as exc:
            raise LocalStackError(f"{logical_id} failed to load: {exc!r}") from exc


def _serve(config: StackConfig, running: _Running, functions: _Functions) -> None:
    """The API, the control endpoint, the SQS pollers and the schedules, in that order."""
    local_api = api.LocalApi(functions.routes, functions.runtimes, base_url=running.api_url)
    running.serving = threading.Thread(
        target=api.serve, args=(running.server, local_api), name="api", daemon=True
    )
    running.serving.start()
    scheduler = functions.scheduler

    def schedules() -> dict[str, Any]:
        return {
            "mode": config.schedules,
            "schedules": scheduler.describe(),
            "not_scheduled": list(scheduler.problems),
        }

    assert running.control is not None
    running.control.start(
        ControlApi(functions.specs, fire=functions.fire, invoke=functions.invoke, schedules=schedules)
    )
    if functions.pollers:
        running.polling = EventSourcePollers(functions.pollers, functions.polling_stop)
        running.polling.start()
    running.scheduler = scheduler
    if config.schedules != "off":
        scheduler.start()


def _extras(config: StackConfig, running: _Running, functions: _Functions, inbox_url: str) -> LocalExtras:
    from switchboard_ops.sandbox import SANDBOX_NUMBER_A, SANDBOX_NUMBER_B

    assert running.control is not None
    return LocalExtras(
        sandbox_url=running.sandbox.url,
        sandbox=_sandbox_summary(running.sandbox),
        control_url=running.control.url,
        alerts_queue_url=inbox_url,
        canary={
            "provider": functions.environment.get("CANARY_PROVIDER", "twilio"),
            "from": SANDBOX_NUMBER_A,
            "to": SANDBOX_NUMBER_B,
            "timeout_seconds": int(functions.environment.get("CANARY_TIMEOUT_SECONDS") or 120),
        },
        schedules=[
            {
                "function": source.function,
                "event": source.event,
                "kind": source.kind,
                "expression": source.expression,
                "enabled": source.enabled,
            }
            for spec in functions.specs.values()
            for source in spec.schedules
        ],
        schedules_mode=config.schedules,
    )


def run(config: StackConfig, *, out: TextIO = sys.stdout, stop: threading.Event | None = None) -> int:
    """Start everything, block until `stop` is set (SIGINT/SIGTERM set it), then tear down."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        _stop_on_signals(stop)
    _check_not_running()
    iam_calls.install_from_env()  # before any handler loads: the test session checks what they call
    running = _bind_api(config)
    try:
        running.control = _start_control(config)
        running.sandbox = _start_sandbox(config, running.api_url)
        running.moto = _start_moto(config)
        import boto3

        session = boto3.Session(region_name=config.region)
        document = webhook_secrets_document()
        if running.sandbox is not None:
            # Hot-lead notices go to the sandbox's Slack hook (GET /sandbox/slack lists them).
            document["slack"] = {"webhook_url": f"{running.sandbox.url}/slack/hook"}
        resources = provision(session, prefix=PREFIX, secret_document=document)
        inbox_url = alerts_inbox(session, resources)
        functions = _wire_functions(config, running, resources, session)
        _load_handlers(functions)
        alarm_lines = _start_alarms(config, running, functions, resources, session)
        _serve(config, running, functions)
        extras = _extras(config, running, functions, inbox_url)
        state = stack_state(
            running.api_url,
            running.moto.url,
            config.region,
            resources,
            functions.pollers,
            config.time_scale,
            extras,
        )
        if stop.is_set():
            return 0
        write_state(state)
        banner(
            state, functions.routes, functions.pollers, functions.scheduler, functions.notes, out, alarm_lines
        )
        stop.wait()
        print("\nstopping the local stack", file=out, flush=True)
        return 0
    finally:
        running.stop(out)
