"""The local stack's HTTP servers (API, sandbox, control endpoint) take a burst of new connections as API
Gateway and a provider's API do. socketserver's listen backlog is 5: a 6th connection arriving before the
accept loop catches up was reset (ECONNRESET), which failed the reconciliation e2e's 16 concurrent posters
on a loaded CI machine."""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from switchboard_ops.local import api, control
from switchboard_ops.sandbox import server as sandbox_server

BURST = 64  # more clients than socketserver's backlog of 5, as many as a test's thread pool opens


def sandbox_socket() -> Any:
    return sandbox_server._Server(("127.0.0.1", 0), sandbox_server._Handler)


def api_socket() -> Any:
    return api.bind("127.0.0.1", 0)


def control_socket() -> Any:
    return control._Server(("127.0.0.1", 0), control._Handler)


@pytest.fixture(params=[api_socket, sandbox_socket, control_socket], ids=["api", "sandbox", "control"])
def listening(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    """A server bound and listening, whose accept loop has not started (as one busy with other work)."""
    bind: Callable[[], Any] = request.param
    server = bind()
    try:
        yield server.server_address[:2]
    finally:
        server.server_close()


def test_a_burst_of_connections_is_queued_not_dropped_before_the_first_accept(listening):
    with ExitStack() as stack:
        clients = [stack.enter_context(socket.socket()) for _ in range(BURST)]
        for client in clients:
            client.setblocking(False)
            client.connect_ex(listening)
        # Handshakes the kernel completed on the server's behalf are writable at once; a connection past
        # the backlog waits for a SYN retransmission (1 s later, and again while the queue stays full).
        _, connected, _ = select.select([], clients, [], 0.5)

    assert len(connected) == BURST
