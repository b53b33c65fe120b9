"""Unit tests run with no network: any socket connection attempt fails the test. Also the sandbox
provider's context and app, driven without a socket (SandboxApp.handle)."""

from __future__ import annotations

import socket

import pytest

from switchboard_ops.local.secrets import LOCAL_SECRETS
from switchboard_ops.sandbox.config import SandboxConfig
from switchboard_ops.sandbox.core import Context
from switchboard_ops.sandbox.server import SandboxApp


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unit tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture
def ctx() -> Context:
    return Context(SandboxConfig(api_url="http://127.0.0.1:9", drop_rate=1.0), LOCAL_SECRETS)


@pytest.fixture
def app(ctx: Context) -> SandboxApp:
    return SandboxApp(ctx)
