"""Records the AWS calls each function's handler makes, through botocore's event hooks.

A call belongs to a function only while that function's handler runs (`attributed`); calls made
outside one (test fixtures, provisioning, the CLI, the local stack's own pollers) are not recorded.
Each call is reduced to the IAM (action, resource) pairs AWS authorizes it by, with the resource named
by its logical id (policy.resource_arn), whatever prefix the test or the local stack gave it."""

from __future__ import annotations

import contextvars
import functools
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard_ops.iam.policy import resource_arn

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("iam_function", default=None)

# IAM authorizes these operations by other actions: SQS's batch calls by their single action, and a
# DynamoDB transaction by the write actions of its items (listed per item in requirements).
_ACTION_OF = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    # S3 authorizes reads and (multipart) writes of an object by GetObject / PutObject.
    "s3:HeadObject": "s3:GetObject",
    "s3:CreateMultipartUpload": "s3:PutObject",
    "s3:UploadPart": "s3:PutObject",
    "s3:CompleteMultipartUpload": "s3:PutObject",
    # Bedrock authorizes Converse as InvokeModel on the model (or inference profile) it names.
    "bedrock:Converse": "bedrock:InvokeModel",
}
_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True, order=True)
class Call:
    """One authorization a function's code needs: `action` on `resource`."""

    function: str
    action: str
    resource: str
    operation: str  # the botocore operation it came from (TransactWriteItems, SendMessageBatch, ...)


def logical_name(physical: str) -> str:
    """`switchboard-local-EventsTable` -> `EventsTable`: local resources are `<prefix>-<LogicalId>`."""
    return physical.rsplit("-", 1)[-1]


def _secret(secret_id: str) -> str:
    name = secret_id.split(":secret:", 1)[-1]
    if secret_id.startswith("arn:"):
        name = name.rsplit("-", 1)[0]  # the ARN's 6-character random suffix
    return resource_arn("secretsmanager", logical_name(name))


def _bedrock_model(model_id: str) -> str:
    """An inference profile ("us.amazon.nova-micro-v1:0") or a foundation model, as IAM names them."""
    from switchboard_ops.iam.policy import ACCOUNT, REGION

    if model_id.startswith("arn:"):
        return model_id
    if model_id.split(".", 1)[0] in ("us", "eu", "apac", "us-gov", "global"):
        return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{model_id}"
    return f"arn:aws:bedrock:{REGION}::foundation-model/{model_id}"


def _table(name: str, index: str | None = None) -> str:
    arn = resource_arn("dynamodb", logical_name(name))
    return f"{arn}/index/{index}" if index else arn


def requirements(prefix: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The (action, resource) pairs IAM checks for one API call."""
    action = _ACTION_OF.get(f"{prefix}:{operation}", f"{prefix}:{operation}")
    if prefix == "dynamodb" and operation == "TransactWriteItems":
        return [
            (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table(body["TableName"]))
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if prefix == "dynamodb" and operation == "TransactGetItems":
        return [
            ("dynamodb:GetItem", _table(item["Get"]["TableName"])) for item in params.get("TransactItems", [])
        ]
    if prefix == "dynamodb" and operation in ("BatchGetItem", "BatchWriteItem"):
        return [(action, _table(name)) for name in params.get("RequestItems", {})]
    if prefix == "bedrock" and "modelId" in params:
        return [(action, _bedrock_model(params["modelId"]))]
    if "TableName" in params:
        return [(action, _table(params["TableName"], params.get("IndexName")))]
    if "QueueUrl" in params:
        return [(action, resource_arn("sqs", logical_name(params["QueueUrl"].rsplit("/", 1)[-1])))]
    if "TopicArn" in params:
        return [(action, resource_arn("sns", logical_name(params["TopicArn"].rsplit(":", 1)[-1])))]
    if "SecretId" in params:
        return [(action, _secret(params["SecretId"]))]
    if prefix == "ssm" and "Name" in params:
        return [(action, resource_arn("ssm", logical_name(params["Name"].lstrip("/"))))]
    if "Bucket" in params:
        bucket = resource_arn("s3", logical_name(params["Bucket"]))
        return [(action, f"{bucket}/{params['Key']}" if "Key" in params else bucket)]
    return [(action, "*")]


class CallRecorder:
    """The calls made inside handlers, deduplicated; appended to `path` too (one JSON line each) when
    given, so a local stack in another process hands its calls to the test session."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.calls: set[Call] = set()
        self._lock = threading.Lock()

    def on_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        function = _current.get()
        if function is None:
            return
        signing_name = model.service_model.signing_name
        prefix = _IAM_PREFIX.get(signing_name, signing_name)
        for action, resource in requirements(prefix, model.name, params):
            self.add(Call(function, action, resource, model.name))

    def add(self, call: Call) -> None:
        with self._lock:
            if call in self.calls:
                return
            self.calls.add(call)
            if self.path is not None:
                with self.path.open("a") as out:
                    out.write(json.dumps(call.__dict__) + "\n")


_recorder: CallRecorder | None = None
# A directory: a local stack started with it set appends its handlers' calls to calls-<pid>.jsonl there.
RECORD_DIR_ENV = "SWITCHBOARD_IAM_RECORD_DIR"


def install(path: Path | None = None) -> CallRecorder:
    """Hook every botocore session made from now on (as moto does) and return the process's recorder."""
    global _recorder
    if _recorder is None:
        import botocore.handlers

        _recorder = CallRecorder(path)
        # provide-client-params carries the caller's own parameters, before botocore serializes them.
        botocore.handlers.BUILTIN_HANDLERS.append(("provide-client-params.*.*", _recorder_hook))
    return _recorder


def install_from_env() -> CallRecorder | None:
    directory = os.environ.get(RECORD_DIR_ENV)
    return install(Path(directory) / f"calls-{os.getpid()}.jsonl") if directory else None


def _recorder_hook(**kwargs: Any) -> None:
    if _recorder is not None:
        _recorder.on_call(**kwargs)


def installed() -> CallRecorder | None:
    return _recorder


@contextmanager
def attributed(function: str) -> Iterator[None]:
    token = _current.set(function)
    try:
        yield
    finally:
        _current.reset(token)


def attributing(function: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """`handler`, its AWS calls recorded as `function`'s."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        with attributed(function):
            return handler(*args, **kwargs)

    return run


def read_calls(path: Path) -> set[Call]:
    return {Call(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()}
