"""What both outbound figures share: moto with the template's resources, the sandbox provider on a free
loopback port, a local webhook receiver, senders wired exactly as SenderFunction wires them, and the
poller threads that drain a queue the way Lambda's SQS event source does.

- AWS: moto in-process (`mock_aws`), the template's tables, queues, topic and secrets
  (switchboard_ops.local.provision), the local webhook secrets in WebhookSecrets.
- The provider: switchboard_ops.sandbox.Sandbox in-process on 127.0.0.1:<free port>, speaking Twilio's
  and OpenPhone's REST APIs with their rate limits (429 past them) and counting every 429 it answers.
- Switchboard's API, as far as the sandbox can tell: a local HTTP receiver. `Receiver()` answers 200 to
  every status callback and webhook; `Receiver(ingest=...)` hands each one to IngestFunction's handler
  (through an API Gateway v2 event), one at a time, so a canary that comes back is recorded.
- The sender: `services.sender_wiring.build_sender()` (SenderFunction's own wiring: settings from the
  environment, send_openphone / send_twilio over HTTP, one TokenBucket per provider at rate /
  SENDER_CONCURRENCY, capacity 1). One Sender per poller thread: with MaximumConcurrency 2 Lambda runs
  two containers, each with its own `default_sender()` and its own buckets.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from bench.ingest.common import REGION, FakeLambdaContext
from switchboard_ops.local.http_server import LocalHttpServer

OPENPHONE_NUMBER = "+14155559876"  # the sandbox's default OpenPhone number (DEFAULT_OPENPHONE_NUMBERS)
TWILIO_NUMBER = "+14155550100"
MONITORING, MONITORED = "+14155550100", "+14155550199"  # the canary's two numbers
SENDER_CONCURRENCY = 2  # template.yaml: SENDER_CONCURRENCY "2", ScalingConfig MaximumConcurrency 2
BATCH_SIZE = 5  # template.yaml: SenderFunction's Sends event, BatchSize 5


class SenderContext(FakeLambdaContext):
    function_name = "SenderFunction"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:SenderFunction"
    log_group_name = "/aws/lambda/SenderFunction"


class HealthContext(FakeLambdaContext):
    function_name = "HealthCheckFunction"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:HealthCheckFunction"
    log_group_name = "/aws/lambda/HealthCheckFunction"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """os.environ with `values` set; everything put back as it was afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ------------------------------------------------------------------------------------------ receiver


class Receiver:
    """Switchboard's API as the sandbox sees it: answers 200, or runs IngestFunction for each request."""

    def __init__(self, ingest: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None) -> None:
        self.counts: dict[str, int] = {}
        self.ingest = ingest
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._answer(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
                pass

        self.server = LocalHttpServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="receiver", daemon=True
        )

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.counts[path] = self.counts.get(path, 0) + 1
            if self.ingest is None:
                return 200
            from switchboard_ops.local.apigw import http_api_event

            event = http_api_event(f"{self.url}{path}", body, headers)
            return int(self.ingest(event, FakeLambdaContext()).get("statusCode", 500))

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


# ------------------------------------------------------------------------------------------ the stack


@dataclass
class Stack:
    resources: Any  # switchboard_ops.local.provision.StackResources
    sandbox: Any  # switchboard_ops.sandbox.Sandbox
    receiver: Receiver

    @property
    def sqs(self) -> Any:
        from switchboard.dal.aws import client

        return client("sqs")

    def queue(self, logical_id: str) -> str:
        return str(self.resources.queues[logical_id])

    def sender_environment(self, *, twilio_rate: float, openphone_rate: float) -> dict[str, str]:
        """SenderFunction's variables (template.yaml), pointed at the sandbox and the receiver."""
        return {
            **self.resources.environment(),
            "OUTBOUND_QUEUE_URL": self.queue("OutboundQueue"),
            "OUTBOUND_DLQ_URL": self.queue("OutboundDeadLetterQueue"),
            "CALLBACK_BASE_URL": self.receiver.url,
            "TWILIO_API_BASE_URL": self.sandbox.url,
            "OPENPHONE_API_BASE_URL": self.sandbox.url,
            "TWILIO_RATE_PER_SECOND": f"{twilio_rate:g}",
            "OPENPHONE_RATE_PER_SECOND": f"{openphone_rate:g}",
            "SENDER_CONCURRENCY": str(SENDER_CONCURRENCY),
        }


@contextmanager
def outbound_stack(
    *, ingest: bool = False, prefix: str = "switchboard-bench-outbound", **sandbox_settings: Any
) -> Iterator[Stack]:
    """moto with the template's resources, a receiver, and the sandbox on a free loopback port.

    `ingest`: the receiver runs IngestFunction (needed when a webhook must be recorded: the canary).
    `sandbox_settings`: SandboxConfig fields (openphone_rate, twilio_rate, drop_rate, ...).
    """
    import boto3
    from moto import mock_aws

    from switchboard.container import forget_per_container
    from switchboard_ops.local.provision import provision
    from switchboard_ops.local.secrets import webhook_secrets_document
    from switchboard_ops.sandbox import Sandbox

    with mock_aws():
        resources = provision(
            boto3.Session(region_name=REGION), prefix=prefix, secret_document=webhook_secrets_document()
        )
        with environment(**resources.environment()):
            forget_per_container()
            handler = None
            if ingest:
                from switchboard_ops.project import load_handler

                handler = load_handler("ingest").handler
            try:
                with Receiver(handler) as receiver:
                    sandbox = Sandbox(receiver.url, port=free_port(), **sandbox_settings).start()
                    try:
                        yield Stack(resources, sandbox, receiver)
                    finally:
                        sandbox.stop()
            finally:
                forget_per_container()


# ------------------------------------------------------------------------------------------ senders


class Unlimited:
    """The naive sender's "limit": never waits (the token bucket taken out, nothing else changed)."""

    rate = float("inf")

    def acquire(self) -> float:
        return 0.0


@dataclass
class Tally:
    """Provider calls as the sender saw them: when each was accepted, and what each refusal was."""

    accepted_at: list[float] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # SendUnavailable: 429, 5xx, connection refused
    other_errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_accepted(self, at: float) -> None:
        with self._lock:
            self.accepted_at.append(at)

    def add_error(self, error: Exception) -> None:
        from switchboard.providers.outbound import SendUnavailable

        with self._lock:
            (self.unavailable if isinstance(error, SendUnavailable) else self.other_errors).append(str(error))

    @property
    def rate_limited(self) -> int:
        return sum("429" in error for error in self.unavailable)


def build_sender(tally: Tally | None = None, *, naive: bool = False) -> Any:
    """One container's Sender, built by SenderFunction's own `build_sender()` from os.environ.

    `naive`: the same Sender with the token buckets replaced by `Unlimited` (the baseline).
    `tally`: each transport wrapped to timestamp acceptances and record failures (instrumentation only:
    the call itself is the production transport).
    """
    from switchboard.function_settings import sender_settings
    from switchboard.services.sender_wiring import build_sender

    # The sender's settings from the current os.environ; only those: forgetting every per-container object
    # here would drop the health check a caller has already instrumented (bench/outbound/detection.py).
    sender_settings.cache_clear()
    sender = build_sender()
    if naive:
        sender.limits = {provider: Unlimited() for provider in sender.limits}
    if tally is not None:
        sender.transports = {name: _tallied(send, tally) for name, send in sender.transports.items()}
    return sender


def _tallied(send: Callable[[Any], Any], tally: Tally) -> Callable[[Any], Any]:
    def transport(request: Any) -> Any:
        try:
            sent = send(request)
        except Exception as exc:
            tally.add_error(exc)
            raise
        tally.add_accepted(time.perf_counter())
        return sent

    return transport


def limits_of(sender: Any) -> dict[str, dict[str, float | None]]:
    """Each provider's bucket; None = no limit (the naive sender)."""
    return {
        name: {"rate_per_second": bucket.rate, "capacity": bucket.capacity}
        if not isinstance(bucket, Unlimited)
        else {"rate_per_second": None, "capacity": None}
        for name, bucket in sender.limits.items()
    }


# ------------------------------------------------------------------------------------------ pollers


@dataclass
class PollerResult:
    records: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    raised: dict[str, int] = field(default_factory=dict)


def poll_until_empty(
    sqs: Any,
    queue_url: str,
    handle: Callable[..., str],
    *,
    batch_size: int = BATCH_SIZE,
    stop: threading.Event | None = None,
    idle_wait: float = 0.0,
    queue_lock: threading.Lock | None = None,
) -> PollerResult:
    """One SQS event-source poller: receive up to `batch_size`, hand each record to `handle` (the
    service's `handle(body, receipt_handle=, receive_count=)`, as sqs_batch.run_batch does), delete the
    ones that returned; a record that raised stays (its own retry_later decides when it is back).

    Stops at the first empty receive, or (with `stop`) keeps polling every `idle_wait` s until it is set.
    `queue_lock`: shared by pollers of one queue. moto's ReceiveMessage is not atomic across threads
    (two pollers can both take a message before either marks it received); real SQS is, so the bench
    serialises the SQS calls - never the send itself.
    """
    from switchboard_ops.local.sqs_events import receive_batch

    lock = queue_lock or threading.Lock()
    result = PollerResult()
    while True:
        with lock:
            messages = receive_batch(sqs, queue_url, max_messages=batch_size)
        if not messages:
            if stop is None or stop.wait(idle_wait):
                return result
            continue
        done = []
        for message in messages:
            result.records += 1
            try:
                outcome = handle(
                    message["Body"],
                    receipt_handle=message["ReceiptHandle"],
                    receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
                )
            except Exception as exc:  # noqa: BLE001 - a record that raises is retried by SQS, as in Lambda
                result.raised[type(exc).__name__] = result.raised.get(type(exc).__name__, 0) + 1
                continue
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
            done.append(message)
        if done:
            with lock:
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
