"""Integration fixtures: moto in-process, resources built from template.yaml's own definitions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from switchboard.dal import aws
from switchboard.services import ingest as ingest_service
from switchboard_ops.local.provision import StackResources, provision
from switchboard_ops.local.secrets import webhook_secrets_document


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[StackResources]:
    """A fresh moto AWS with the template's resources and the local secrets, wired into the env."""
    with mock_aws():
        resources = provision(
            boto3.Session(region_name="us-east-1"), secret_document=webhook_secrets_document()
        )
        for key, value in resources.environment().items():
            monkeypatch.setenv(key, value)
        _forget_cached_wiring()
        yield resources
        _forget_cached_wiring()


def _forget_cached_wiring() -> None:
    from switchboard.config import ingest_settings

    aws.client.cache_clear()
    ingest_settings.cache_clear()
    ingest_service._default = None


@pytest.fixture
def dynamodb() -> Any:
    return aws.client("dynamodb")


@pytest.fixture
def sqs() -> Any:
    return aws.client("sqs")
