"""Shared fixtures: sample events from events/, handlers loaded from functions/, and AWS via moto."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest

from switchboard.container import forget_per_container

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


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """Every mock_aws starts a new boto3 session, and each new session read and parsed botocore's service
    models again (about half a second of CPU per test); they are read-only data, so one loader serves all."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", functools.cache(botocore.session.create_loader))
        yield


@pytest.fixture(autouse=True)
def fresh_container() -> Iterator[None]:
    """Each test starts (and leaves) a cold container: services are built again from its environment."""
    forget_per_container()
    yield
    forget_per_container()


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
