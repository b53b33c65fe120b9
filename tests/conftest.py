"""Shared fixtures: sample events from events/, handlers loaded from functions/, and AWS via moto."""

from __future__ import annotations

import os
from typing import Any

import pytest

# Never reach a real AWS account from a test, whatever the developer's shell holds.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_NAMESPACE="Switchboard",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

# Every AWS call a handler makes is checked against the template's IAM policies at the session's end.
pytest_plugins = ["switchboard_ops.iam.pytest_plugin"]


@pytest.fixture
def lambda_context() -> Any:
    class Context:
        function_name = "IngestFunction"
        function_version = "$LATEST"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:IngestFunction"
        memory_limit_in_mb = 256
        aws_request_id = "00000000-0000-0000-0000-000000000000"
        log_group_name = "/aws/lambda/IngestFunction"
        log_stream_name = "local"

        def get_remaining_time_in_millis(self) -> int:
            return 10_000

    return Context()
