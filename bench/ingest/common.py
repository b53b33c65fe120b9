"""What every ingest figure shares: an isolated environment, both stacks provisioned the same way, both
handlers loaded by file, an AWS call counter, quiet stdout, and the Figure record."""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BASELINE_APP = Path(__file__).resolve().with_name("baseline_app.py")
RESULTS_DIR = ROOT / "bench" / "results"
CLIENT_SERVICES = ("dynamodb", "sqs", "secretsmanager")
REGION = "us-east-1"

# The environment every figure runs in (and hands to its subprocesses): never a real AWS account.
BENCH_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "switchboard",
    "POWERTOOLS_METRICS_NAMESPACE": "Switchboard",
    "LOG_LEVEL": "INFO",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",  # template.yaml's Globals: no plugin scan on the first model
}
_UNSAFE_ENVIRONMENT = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


def isolate_environment() -> None:
    """Fake credentials, one region, tracing off: set before anything reads them."""
    os.environ.update(BENCH_ENVIRONMENT)
    for name in _UNSAFE_ENVIRONMENT:
        os.environ.pop(name, None)


def subprocess_environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _UNSAFE_ENVIRONMENT}
    env.update(BENCH_ENVIRONMENT)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


# ------------------------------------------------------------------------------------------ AWS calls


@dataclass
class CallCounter:
    """Every AWS API call made by any botocore client while active, as `service.Operation`.

    Wraps `BaseClient._make_api_call`: one count per API call (retries are not extra calls; failed calls
    such as a ConditionalCheckFailed put do count), for every client, including clients created inside
    libraries. Both handlers are counted by this one mechanism. Each call's wall time (in-process moto
    answers inside it) is summed by operation too.
    """

    calls: list[str] = field(default_factory=list)
    nanoseconds: Counter[str] = field(default_factory=Counter)
    # True: only calls made by the thread that entered it (while other threads call AWS concurrently).
    this_thread_only: bool = False
    thread: int | None = None

    def __enter__(self) -> CallCounter:
        self.thread = threading.get_ident() if self.this_thread_only else None
        _ACTIVE.append(self)
        _install_wrapper()
        return self

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.remove(self)
        if not _ACTIVE:
            _remove_wrapper()

    @property
    def count(self) -> int:
        return len(self.calls)

    def by_operation(self) -> dict[str, int]:
        return dict(sorted(Counter(self.calls).items()))

    def milliseconds_by_operation(self) -> dict[str, float]:
        return {name: self.nanoseconds[name] / 1e6 for name in sorted(self.nanoseconds)}

    def reset(self) -> None:
        self.calls.clear()
        self.nanoseconds.clear()


_ACTIVE: list[CallCounter] = []
_ORIGINAL: list[Any] = []  # BaseClient._make_api_call while the wrapper is installed


def _install_wrapper() -> None:
    from botocore.client import BaseClient

    if _ORIGINAL:
        return
    original = BaseClient._make_api_call

    def counting(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        name = f"{client.meta.service_model.service_name}.{operation_name}"
        caller = threading.get_ident()
        counters = [counter for counter in _ACTIVE if counter.thread in (None, caller)]
        for counter in counters:
            counter.calls.append(name)
        start = time.perf_counter_ns()
        try:
            return original(client, operation_name, api_params)
        finally:
            elapsed = time.perf_counter_ns() - start
            for counter in counters:
                counter.nanoseconds[name] += elapsed

    _ORIGINAL.append(original)
    BaseClient._make_api_call = counting


def _remove_wrapper() -> None:
    from botocore.client import BaseClient

    if _ORIGINAL:
        BaseClient._make_api_call = _ORIGINAL.pop()


# ------------------------------------------------------------------------------------------ stacks


@dataclass
class BaselineResources:
    messages_table: str
    idempotency_table: str
    queue_url: str
    secrets_name: str

    def environment(self) -> dict[str, str]:
        return {
            "BASELINE_MESSAGES_TABLE": self.messages_table,
            "BASELINE_IDEMPOTENCY_TABLE": self.idempotency_table,
            "BASELINE_QUEUE_URL": self.queue_url,
            "WEBHOOK_SECRETS_NAME": self.secrets_name,
        }


def create_idempotency_table(dynamodb: Any, name: str) -> str:
    """A Powertools idempotency table, the documented schema: hash key `id`, TTL on `expiration`."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )
    return name


def provision_baseline(
    session: Any, secrets_name: str, *, prefix: str = "bench-baseline"
) -> BaselineResources:
    """The baseline's own messages table, idempotency table (Powertools' documented schema) and queue.

    It reads the same WebhookSecrets document as IngestFunction.
    """
    dynamodb, sqs = session.client("dynamodb"), session.client("sqs")
    messages, idempotency = f"{prefix}-messages", f"{prefix}-idempotency"
    dynamodb.create_table(
        TableName=messages,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    create_idempotency_table(dynamodb, idempotency)
    queue_url = sqs.create_queue(QueueName=f"{prefix}-queue")["QueueUrl"]
    return BaselineResources(messages, idempotency, queue_url, secrets_name)


@dataclass
class Stacks:
    ours: Any  # switchboard_ops.local.provision.StackResources
    baseline: BaselineResources

    def environment(self) -> dict[str, str]:
        return {**self.ours.environment(), **self.baseline.environment()}


def provision_stacks(session: Any, *, prefix: str = "switchboard-bench") -> Stacks:
    """IngestFunction's resources (from template.yaml) and the baseline's, in the AWS `session` reaches."""
    from switchboard_ops.local.provision import provision
    from switchboard_ops.local.secrets import webhook_secrets_document

    ours = provision(session, prefix=prefix, secret_document=webhook_secrets_document())
    return Stacks(
        ours, provision_baseline(session, ours.secrets["WebhookSecrets"], prefix=f"{prefix}-baseline")
    )


def load_our_handler() -> ModuleType:
    from switchboard_ops.project import load_handler

    return load_handler("ingest")


def load_baseline_handler(path: Path = BASELINE_APP) -> ModuleType:
    """A fresh copy of a baseline module (its clients and names are read at import, as in Lambda)."""
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}_{uuid.uuid4().hex}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Handlers:
    stacks: Stacks
    ours: Callable[[dict[str, Any], Any], dict[str, Any]]
    baseline: Callable[[dict[str, Any], Any], dict[str, Any]]


def set_up_handlers(session: Any) -> Handlers:
    """Both stacks provisioned, their names in os.environ, both handlers loaded and wired afresh."""
    from switchboard.container import forget_per_container

    stacks = provision_stacks(session)
    os.environ.update(stacks.environment())
    forget_per_container()  # a function builds its clients, settings and services once per container
    return Handlers(stacks, load_our_handler().handler, load_baseline_handler().handler)


def mark_processed(dynamodb: Any, table_name: str, provider_message_ids: set[str]) -> int:
    """Sets job_state=PROCESSED on our stored events for these message ids (as the worker would)."""
    from switchboard.models.states import JobState

    marked = 0
    pages = dynamodb.get_paginator("scan").paginate(TableName=table_name)
    for page in pages:
        for item in page["Items"]:
            if item.get("provider_message_id", {}).get("S") in provider_message_ids:
                dynamodb.update_item(
                    TableName=table_name,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET job_state = :done",
                    ExpressionAttributeValues={":done": {"S": JobState.PROCESSED.value}},
                )
                marked += 1
    return marked


class FakeLambdaContext:
    function_name = "IngestFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:IngestFunction"
    memory_limit_in_mb = 128
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/IngestFunction"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """Log lines and EMF metrics are still produced and written (the work counts), to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ figures


@dataclass
class Figure:
    key: str
    title: str
    unit: str
    ours: float
    baseline: float
    target: str  # human-readable; `passed` is the verdict (None = informational)
    passed: bool | None
    baseline_name: str = "Powertools-style handler"
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.ours / self.baseline if self.baseline else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "ours": self.ours,
            "baseline": self.baseline,
            "baseline_name": self.baseline_name,
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "target": self.target,
            "result": {True: "pass", False: "FAIL", None: "info"}[self.passed],
            "detail": self.detail,
        }


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> dict[str, float]:
    """Median and quartiles, for the JSON detail."""
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p25": q[0],
        "p75": q[2],
        "min": ordered[0],
        "max": ordered[-1],
    }
