"""`switchboard local up`: moto's server as the embedded AWS, the template's resources provisioned in it,
the functions' environment set, the HTTP API served on localhost and the SQS event-source mappings polled,
until SIGINT/SIGTERM.

Start-up order: bind the API port (fail early), start moto, provision, set the environment, load the
handlers (their cold start), serve, start the pollers, and only then write `.local/stack.json` — its
presence means ready. Stopping: remove the state, let a batch in progress finish, stop serving, stop moto.

Time scale (`--time-scale N`, SWITCHBOARD_TIME_SCALE): the worker's backoff and lease variables are
divided by N (`environment.time_scaled`), so its retry ladder - visibility timeouts it sets itself - runs
N times faster while moto's clock stays real. Fault injection is on locally: a message whose text has
"#fail" always fails, "#fail3" fails its first three attempts (switchboard.services.worker.injected_fault).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, TextIO

from switchboard_ops.local import api
from switchboard_ops.local.environment import (
    aws_environment,
    function_environment,
    template_parameters,
    time_scaled,
)
from switchboard_ops.local.functions import FunctionSpec, function_specs
from switchboard_ops.local.provision import StackResources, provision
from switchboard_ops.local.routes import RouteTable
from switchboard_ops.local.runtime import ACCOUNT_ID, FunctionRuntime
from switchboard_ops.local.secrets import LOCAL_SECRETS, webhook_secrets_document
from switchboard_ops.local.sqs_poller import EventSourcePollers, SqsPoller
from switchboard_ops.local.state import pid_alive, read_state, remove_state, state_path, write_state
from switchboard_ops.local.template import load_template

HOST = "127.0.0.1"
REGION = "us-east-1"
PREFIX = "switchboard-local"
DEFAULT_API_PORT = 3000
DEFAULT_AWS_PORT = 4566
FAULT_INJECTION = "SWITCHBOARD_FAULT_INJECTION"


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

    @classmethod
    def from_env(cls, *, aws_request_log: bool = False, time_scale: str | None = None) -> StackConfig:
        """Ports from the environment; the time scale from the flag, else SWITCHBOARD_TIME_SCALE, else 1."""
        return cls(
            api_port=_port("SWITCHBOARD_PORT", DEFAULT_API_PORT),
            aws_port=_port("SWITCHBOARD_AWS_PORT", DEFAULT_AWS_PORT),
            aws_request_log=aws_request_log,
            time_scale=parse_time_scale(time_scale or os.environ.get("SWITCHBOARD_TIME_SCALE") or "1"),
        )


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
    def __init__(self, host: str, port: int, *, request_log: bool) -> None:
        from moto.server import ThreadedMotoServer

        if not request_log:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        _check_port_free(host, port, "the AWS (moto)")
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._server.start()
        bound_host, bound_port = self._server.get_host_and_port()
        self.url = f"http://{bound_host}:{bound_port}"

    def stop(self) -> None:
        self._server.stop()


def _check_not_running() -> None:
    state = read_state()
    if state and state.get("pid") != os.getpid() and pid_alive(state.get("pid")):
        raise LocalStackError(
            f"a local stack is already running (pid {state['pid']}, {state.get('api_url')}); "
            f"stop it first, or set SWITCHBOARD_STATE_DIR for a second one"
        )


def _state(
    api_url: str, aws_url: str, region: str, resources: StackResources, pollers: list[SqsPoller], scale: float
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
    }


def _seconds(name: str) -> str:
    return f"{name}={os.environ[name]}" if name in os.environ else f"{name} unset"


def _timing(scale: float) -> str:
    backoff = f"{_seconds('BACKOFF_BASE_SECONDS')}, {_seconds('BACKOFF_CAP_SECONDS')}"
    lease = _seconds("JOB_LEASE_SECONDS")
    if scale == 1:
        return f"1x, real time: worker {backoff}, {lease} (--time-scale 60: a minute of backoff in a second)"
    return (
        f"{scale}x: worker {backoff}, {lease} (the template's values / {scale}, at least 1 s); "
        "SQS visibility itself is real time"
    )


def _banner(
    state: dict[str, Any], routes: RouteTable, pollers: list[SqsPoller], notes: list[str], out: TextIO
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
    faults = state.get("fault_injection") == "true"
    lines += [
        f"  time scale  {_timing(state['time_scale'])}",
        f"  faults      {FAULT_INJECTION}={state.get('fault_injection') or 'unset'}"
        + (
            ": a message whose text has #fail always fails, #fail3 fails its first 3 attempts"
            if faults
            else ""
        ),
    ]
    lines += [
        f"  AWS (moto)  {state['aws_endpoint_url']}  region {state['region']}",
        f"  table       {state['table_name']}",
        f"  queues      {', '.join(state['queues'])}",
        f"  state       {state_path()}",
        *(f"  note        {note}" for note in notes),
        "",
        "Try it:",
        '  eval "$(switchboard local curl twilio_inbound_sms)"',
        "  switchboard messages get --provider twilio --id SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8",
        "  eval \"$(switchboard local curl twilio_inbound_sms --body 'Yes #fail')\"  # retries, then the DLQ",
        "  switchboard dlq list; switchboard dlq redrive --all; switchboard jobs stats; switchboard status",
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
) -> list[SqsPoller]:
    """A poller for every enabled SQS event whose queue this stack created; a note for any other."""
    pollers = []
    one_batch_at_a_time = threading.Lock()  # see sqs_poller: the functions share this process
    for spec in specs.values():
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
                        batch_lock=one_batch_at_a_time,
                    )
                )
    return pollers


def run(config: StackConfig, *, out: TextIO = sys.stdout, stop: threading.Event | None = None) -> int:
    """Start everything, block until `stop` is set (SIGINT/SIGTERM set it), then tear down."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        _stop_on_signals(stop)
    _check_not_running()
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
    try:
        moto = _Moto(config.host, config.aws_port, request_log=config.aws_request_log)
        os.environ.update(aws_environment(moto.url, config.region))
        import boto3

        session = boto3.Session(region_name=config.region)
        resources = provision(
            session,
            prefix=PREFIX,
            secret_document=webhook_secrets_document(),
        )
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
        environment, notes = function_environment(specs.values(), resources, parameters)
        environment.update(time_scaled(environment, config.time_scale))
        os.environ.update(environment)
        os.environ.setdefault(FAULT_INJECTION, "true")
        os.environ.update({"PUBLIC_BASE_URL": api_url, "POWERTOOLS_TRACE_DISABLED": "true"})
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Switchboard")
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "switchboard")

        runtimes = {logical_id: FunctionRuntime(spec, config.region) for logical_id, spec in specs.items()}
        routes = RouteTable(route for spec in specs.values() for route in spec.routes)
        polling_stop = threading.Event()
        pollers = _pollers(specs, runtimes, resources, session, config.region, polling_stop, notes)
        triggered = {route.function for route in routes} | {poller.source.function for poller in pollers}
        for logical_id in sorted(triggered):
            try:
                runtimes[logical_id].load()
            except Exception as exc:
                raise LocalStackError(f"{logical_id} failed to load: {exc!r}") from exc
        local_api = api.LocalApi(routes, runtimes, base_url=api_url)
        serving = threading.Thread(target=api.serve, args=(server, local_api), name="api", daemon=True)
        serving.start()
        if pollers:
            polling = EventSourcePollers(pollers, polling_stop)
            polling.start()

        state = _state(api_url, moto.url, config.region, resources, pollers, config.time_scale)
        if stop.is_set():
            return 0
        write_state(state)
        _banner(state, routes, pollers, notes, out)
        stop.wait()
        print("\nstopping the local stack", file=out, flush=True)
        return 0
    finally:
        remove_state(owner_pid=os.getpid())
        if polling is not None:
            busy = polling.stop()
            if busy:
                print(f"still busy, left behind: {', '.join(busy)}", file=out, flush=True)
        if serving is not None:
            server.shutdown()
        server.server_close()
        if moto is not None:
            moto.stop()
