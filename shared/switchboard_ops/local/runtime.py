"""Runs a template function's handler in this process the way Lambda runs it in a container: loaded
once, one event at a time, with a context whose remaining time counts down from the function's Timeout."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from switchboard_ops.local.functions import FunctionSpec
from switchboard_ops.project import load_handler

ACCOUNT_ID = "123456789012"


class LambdaContext:
    """The attributes and method of the Lambda Python context object that handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec, region: str) -> None:
        self.function_name = spec.logical_id
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{spec.logical_id}"
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.logical_id}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionRuntime:
    """One warm "container" for a function: its handler, and a lock so events run one at a time."""

    def __init__(self, spec: FunctionSpec, region: str) -> None:
        self.spec = spec
        self.region = region
        self._lock = threading.Lock()
        self._handler: Callable[[Any, Any], Any] | None = None

    def load(self) -> None:
        """Import the handler module now (its cold start), so a broken function fails at start-up."""
        if self._handler is None:
            if self.spec.module != "app":
                raise ValueError(f"{self.spec.logical_id}: only Handler: app.<function> is supported locally")
            self._handler = getattr(load_handler(self.spec.code_dir), self.spec.handler)

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock:
            self.load()
            assert self._handler is not None
            return self._handler(event, LambdaContext(self.spec, self.region))
