"""The template's HTTP API on localhost: each request becomes an API Gateway v2 event for the function
its route names, and the function's response (payload format 2.0) is written back. Gateway-level
answers match API Gateway's, always JSON `{"message": ...}`: 404 for a route + method that does not exist
(any method, even an unknown one), 400 for a malformed Host or request line, 413 over 10 MB, 500 when the
function fails."""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import urlsplit

from switchboard_ops.local.apigw import http_api_event
from switchboard_ops.local.http_server import LocalHttpServer
from switchboard_ops.local.routes import DEFAULT_ROUTE, RouteTable

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway HTTP API payload limit
_DRAIN_LIMIT = 64 * 1024 * 1024  # past this an oversized body is not read at all: the connection closes
_CHUNK = 64 * 1024
# RFC 3986 host (a registered name or an IP literal) and optional port; headers arrive decoded as Latin-1,
# so a non-ASCII byte shows up as a character outside this set.
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(:[0-9]{0,5})?")


class Invoker(Protocol):
    def invoke(self, event: dict[str, Any]) -> Any: ...


@dataclass
class ApiResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    function: str | None = None

    @classmethod
    def gateway(cls, status: int, message: str) -> ApiResponse:
        """An answer API Gateway itself gives, before or instead of the function."""
        body = json.dumps({"message": message}, separators=(",", ":")).encode()
        return cls(status, [("Content-Type", "application/json")], body)


class PayloadTooLargeError(Exception):
    pass


def response_from_result(result: Any) -> ApiResponse:
    """Payload format 2.0: a dict with statusCode is used as is; anything else is a 200 JSON body."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return ApiResponse(200, [("Content-Type", "application/json")], json.dumps(result).encode())
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"invalid statusCode {status!r}")
    raw = result.get("body") or ""
    if not isinstance(raw, str):
        raise ValueError("body must be a string")
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ())
    return ApiResponse(status, headers, body)


class LocalApi:
    """Route table + function runtimes; `dispatch` is the whole request path, with no socket involved."""

    def __init__(self, routes: RouteTable, functions: Mapping[str, Invoker], *, base_url: str) -> None:
        self.routes = routes
        self.functions = functions
        self.base_url = base_url.rstrip("/")

    def dispatch(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> ApiResponse:
        hosts = [value for name, value in headers if name.lower() == "host"]
        if len(hosts) > 1 or (hosts and not _HOST.fullmatch(hosts[0])):
            return ApiResponse.gateway(400, "Bad Request")  # before routing, as the gateway's front end does
        path = urlsplit(target).path or "/"
        match = self.routes.match(method, path)
        if match is None:
            return ApiResponse.gateway(404, "Not Found")
        route = match.route
        merged: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            merged[key] = f"{merged[key]},{value}" if key in merged else value
        cookies = merged.pop("cookie", None)
        host = merged.get("host") or urlsplit(self.base_url).netloc
        route_key = DEFAULT_ROUTE if route.path == DEFAULT_ROUTE else route.route_key
        event = http_api_event(f"http://{host}{target}", body, merged, method=method, route_key=route_key)
        event.pop("pathParameters", None)
        if match.path_parameters:
            event["pathParameters"] = match.path_parameters
        if cookies:
            event["cookies"] = [cookie.strip() for cookie in cookies.split(";") if cookie.strip()]
        try:
            response = response_from_result(self.functions[route.function].invoke(event))
        except Exception:  # noqa: BLE001 - the function failed: API Gateway answers 500, the log has it
            print(f"[ERROR] {route.function} failed:\n{traceback.format_exc()}", flush=True)
            response = ApiResponse.gateway(500, "Internal Server Error")
        response.function = route.function
        return response


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect from API Gateway
    default_request_version = "HTTP/1.1"  # a rejected request line still gets a status line (no HTTP/0.9)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            if length <= _DRAIN_LIMIT:
                while length > 0:
                    data = self.rfile.read(min(_CHUNK, length))
                    if not data:
                        break
                    length -= len(data)
            else:
                self.close_connection = True
            raise PayloadTooLargeError
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            total += size
            if total > MAX_REQUEST_BYTES:
                self.close_connection = True
                raise PayloadTooLargeError
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        return b"".join(chunks)

    def _handle(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except PayloadTooLargeError:
            response = ApiResponse.gateway(413, "Request Entity Too Large")
        except ValueError:
            response = ApiResponse.gateway(400, "Bad Request")
        else:
            response = self.server.api.dispatch(self.command, self.path, list(self.headers.items()), body)
        self._write(response)
        elapsed = (time.perf_counter() - started) * 1000
        via = f" {response.function}" if response.function else ""
        print(f"{self.command} {self.path} -> {response.status}{via} {elapsed:.0f} ms", file=sys.stderr)

    def _write(self, response: ApiResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        # Every method, FOO included, goes to the route table (API Gateway: 404 for a route + method it
        # lacks), instead of the standard library's HTML 501 for a method without a do_<METHOD>.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own rejections (bad request line, header too long...) as gateway JSON."""
        self.close_connection = True
        self._write(ApiResponse.gateway(code, HTTPStatus(code).phrase))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _handle writes one line per request, with the function and the time

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        print(f"api: {format % args}", file=sys.stderr)


class _Server(LocalHttpServer):
    api: LocalApi


def bind(host: str, port: int) -> _Server:
    """Bind the API's socket now (a port in use fails here, early); `serve(server, api)` later."""
    return _Server((host, port), _RequestHandler)


def serve(server: _Server, api: LocalApi) -> None:
    server.api = api
    server.serve_forever(poll_interval=0.2)
