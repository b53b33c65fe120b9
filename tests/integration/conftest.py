"""Integration fixtures: moto in-process, resources built from template.yaml's own definitions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from switchboard.container import forget_per_container
from switchboard.dal import aws
from switchboard_ops.local.cloudwatch_rules import cloudwatch_rules
from switchboard_ops.local.provision import StackResources, provision
from switchboard_ops.local.secrets import webhook_secrets_document
from switchboard_ops.local.sqs_rules import sqs_rules
from switchboard_ops.project import load_handler
from switchboard_ops.sandbox import Sandbox


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[StackResources]:
    """A fresh moto AWS with the template's resources and the local secrets, wired into the env."""
    with mock_aws(), sqs_rules(), cloudwatch_rules():  # moto refusing and matching as AWS does
        resources = provision(
            boto3.Session(region_name="us-east-1"), secret_document=webhook_secrets_document()
        )
        for key, value in resources.environment().items():
            monkeypatch.setenv(key, value)
        # a fixture requested before this one may have built clients or settings from the old environment
        forget_per_container()
        yield resources


@pytest.fixture
def dynamodb() -> Any:
    return aws.client("dynamodb")


@pytest.fixture
def sqs() -> Any:
    return aws.client("sqs")


@pytest.fixture
def reconcile(stack: StackResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """ReconcileFunction's handler with AlertsTopic wired (the digest publishes to it)."""
    from switchboard.function_settings import reconcile_settings

    monkeypatch.setenv("ALERTS_TOPIC_ARN", stack.topics["AlertsTopic"])
    reconcile_settings.cache_clear()
    yield load_handler("reconcile")
    reconcile_settings.cache_clear()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The sandbox provider in-process, its lists unthrottled for tests; webhooks go nowhere (every
    message is dropped), so reconciliation is the only way in. A module may define its own."""
    with Sandbox("http://127.0.0.1:9", drop_rate=1.0, twilio_rate=1000.0, openphone_rate=1000.0) as box:
        yield box
