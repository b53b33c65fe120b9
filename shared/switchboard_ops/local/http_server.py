"""The HTTP server under the local stack's API, the sandbox provider and the control endpoint."""

from __future__ import annotations

import socket
from http.server import ThreadingHTTPServer


class LocalHttpServer(ThreadingHTTPServer):
    """The stdlib's threading HTTP server, a thread per connection (daemon threads: a stop never waits for
    a client), listening with the system's backlog instead of socketserver's 5. With 5, a burst of new
    connections (a test's or a load generator's thread pool) was reset as soon as it outran the accept
    loop; API Gateway and a provider's API queue them."""

    daemon_threads = True
    request_queue_size = socket.SOMAXCONN
