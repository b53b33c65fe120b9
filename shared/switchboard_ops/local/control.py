"""The local stack's control endpoint: what `switchboard local trigger` and `local schedules` talk to.

A small HTTP server of its own on 127.0.0.1 (port $SWITCHBOARD_CONTROL_PORT; default 0, any free port),
recorded as `control_url` in .local/stack.json - apart from the API port, so no route of the template's
HTTP API (a `$default` catch-all included) is ever shadowed. Routes, JSON in and out:

    GET  /_local/health                      {"ok": true}
    GET  /_local/schedules                   each schedule: expression, next fire, fired count
    POST /_local/trigger/<LogicalId>         fire the function's schedule now (?event=<EventName> picks
                                             one of several); a JSON body instead is the event to send.
                                             200: the function's result; 500: {"error":
                                             "function_error", "errorType", "errorMessage"}
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from switchboard_ops.local.functions import FunctionSpec, ScheduleSource
from switchboard_ops.local.http_server import LocalHttpServer

PREFIX = "/_local"
_MAX_BODY = 1024 * 1024

Fire = Callable[[ScheduleSource], Any]  # invoke a function with its schedule's event
Invoke = Callable[[str, Any], Any]  # invoke a function (logical id) with a given event


def _error(status: int, error: str, detail: str, **extra: Any) -> tuple[int, Any]:
    return status, {"error": error, "detail": detail, **extra}


class ControlApi:
    """The routes, with no socket: `dispatch(method, target, body) -> (status, JSON value)`."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        *,
        fire: Fire,
        invoke: Invoke,
        schedules: Callable[[], dict[str, Any]] = lambda: {"schedules": [], "not_scheduled": []},
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    ) -> None:
        self.functions = functions
        self.fire = fire
        self.invoke = invoke
        self.schedules = schedules
        self.log = log

    def dispatch(self, method: str, target: str, body: bytes = b"") -> tuple[int, Any]:
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        query = parse_qs(parts.query)
        if method == "GET" and path == f"{PREFIX}/health":
            return 200, {"ok": True}
        if method == "GET" and path == f"{PREFIX}/schedules":
            return 200, self.schedules()
        if path.startswith(f"{PREFIX}/trigger/"):
            if method != "POST":
                return _error(405, "method_not_allowed", "use POST to trigger a function")
            logical_id = path.removeprefix(f"{PREFIX}/trigger/")
            events = query.get("event")
            return self.trigger(logical_id, events[0] if events else None, body)
        return _error(404, "not_found", f"no control route {method} {parts.path}")

    def trigger(self, logical_id: str, event_name: str | None, body: bytes) -> tuple[int, Any]:
        spec = self.functions.get(logical_id)
        if spec is None:
            return _error(
                404,
                "not_found",
                f"no function {logical_id} in the template",
                functions=sorted(self.functions),
            )
        given: Any = None
        if body.strip():
            try:
                given = json.loads(body)
            except ValueError:
                return _error(400, "bad_request", "the body must be the JSON event to send")
        source: ScheduleSource | None = None
        if given is None:
            schedules = spec.schedules
            if event_name is not None:
                schedules = tuple(item for item in schedules if item.event == event_name)
            if not schedules:
                names = ", ".join(item.event for item in spec.schedules) or "none"
                return _error(
                    400 if event_name is None else 404,
                    "no_schedule",
                    f"{logical_id} has no Schedule event{' ' + event_name if event_name else ''} "
                    f"(its schedules: {names}); give it the event to send instead (a JSON body; "
                    "`switchboard local trigger --event FILE`)",
                )
            source = schedules[0]
        started = time.perf_counter()
        label = f"TRIGGER {logical_id}" + (f" ({source.event}: {source.expression})" if source else "")
        try:
            result = self.fire(source) if source is not None else self.invoke(logical_id, given)
        except Exception as exc:  # noqa: BLE001 - reported to the caller as Lambda reports a function error
            self.log(f"[ERROR] {label} failed:\n{traceback.format_exc()}")
            return 500, {
                "error": "function_error",
                "errorType": type(exc).__name__,
                "errorMessage": str(exc).strip(),
                "function": logical_id,
            }
        summary = json.dumps(result, default=str, separators=(",", ":"))
        summary = summary if len(summary) <= 160 else summary[:157] + "..."
        self.log(f"{label}: {summary} {(time.perf_counter() - started) * 1000:.0f} ms")
        return 200, result


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            status, payload = _error(413, "payload_too_large", "at most 1 MB")
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length > 0 else b""
            status, payload = self.server.api.dispatch(self.command, self.path, body)
        data = json.dumps(payload, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass


class _Server(LocalHttpServer):
    api: ControlApi


class ControlServer:
    """Bind now (`ControlServer(host, port)`: a port in use fails here), serve on `start(api)`."""

    def __init__(self, host: str, port: int) -> None:
        self._server = _Server((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, api: ControlApi) -> None:
        self._server.api = api
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="control", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()
