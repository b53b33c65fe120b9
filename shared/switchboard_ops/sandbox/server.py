"""The sandbox provider's HTTP server: Twilio's and OpenPhone's APIs plus the `/sandbox/*` control
routes, on one stdlib ThreadingHTTPServer. `Sandbox` runs it in-process (start/stop/url)."""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

from switchboard_ops.local.http_server import LocalHttpServer
from switchboard_ops.sandbox import llm_api, openphone_api, reply_apis, slack_api, twilio_api
from switchboard_ops.sandbox.config import ConfigError, SandboxConfig
from switchboard_ops.sandbox.core import Context, bad_request
from switchboard_ops.sandbox.faults import FaultError, FaultRule, rules_from_json
from switchboard_ops.sandbox.store import StoredMessage
from switchboard_ops.sandbox.wire import HttpError, Request, Response, is_e164

MAX_REQUEST_BYTES = 1024 * 1024
_PROVIDERS: dict[str, Any] = {"twilio": twilio_api, "openphone": openphone_api}


def not_found(request: Request) -> HttpError:
    return HttpError(404, {"error": "not_found", "detail": f"no route for {request.method} {request.path}"})


class SandboxApp:
    """Every request's path from `Request` to `Response`, with no socket involved."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._admin: dict[tuple[str, str], Callable[[Request], Any]] = {
            ("GET", "/sandbox/health"): lambda request: {"ok": True, "api_url": ctx.config.api_url},
            ("GET", "/sandbox/stats"): lambda request: self.stats(),
            ("GET", "/sandbox/config"): lambda request: ctx.config.describe(),
            ("POST", "/sandbox/config"): self._configure,
            ("GET", "/sandbox/faults"): lambda request: {"faults": ctx.faults.rules()},
            ("POST", "/sandbox/faults"): self._add_faults,
            ("DELETE", "/sandbox/faults"): self._clear_faults,
            ("POST", "/sandbox/inbound"): self._inbound,
            ("POST", "/sandbox/calendar"): self._calendar,
            ("GET", "/sandbox/opt-outs"): lambda request: {"opt_outs": ctx.store.opt_outs()},
            ("POST", "/sandbox/opt-outs"): self._set_opt_out,
            ("GET", "/sandbox/messages"): self._messages,
            ("GET", "/sandbox/replies"): lambda request: {
                "replies": ctx.store.replies(request.arg("provider"))
            },
            ("GET", "/sandbox/deliveries"): lambda request: {"deliveries": ctx.delivery.recent()},
            ("GET", "/sandbox/slack"): lambda request: {"messages": ctx.store.slack()},
            ("POST", "/sandbox/reset"): self._reset,
            ("POST", "/sandbox/flush"): self._flush,
        }

    def handle(self, request: Request) -> Response:
        try:
            if request.path == "/sandbox" or request.path.startswith("/sandbox/"):
                return self._handle_admin(request)
            module = self._provider_for(request.path)
            if module is None:
                raise not_found(request)
            fault = self.ctx.faults.take(request.method, request.path)
            if fault is not None:
                self.ctx.store.count("faults")
                answer = self._apply_fault(fault, module)
                if answer is not None:
                    return answer
            response: Response = module.handle(self.ctx, request)
            return response
        except HttpError as exc:
            return exc.response()
        except Exception:  # noqa: BLE001 - the caller gets a JSON 500, the sandbox's log the details
            print(
                f"sandbox: {request.method} {request.path} failed:\n{traceback.format_exc()}", file=sys.stderr
            )
            return Response.json(500, {"error": "internal", "detail": "the sandbox failed; see its log"})

    @staticmethod
    def _provider_for(path: str) -> Any:
        # Before OpenPhone's "/v1/": chat completions share the prefix.
        if path.rstrip("/") == llm_api.OPENAI_PATH:
            return llm_api.OpenAiApi
        if path.startswith(llm_api.BEDROCK_PREFIX):
            return llm_api.BedrockApi
        if reply_api := reply_apis.api_for(path):
            return reply_api
        if path.startswith(slack_api.PREFIX):
            return slack_api
        if path.startswith(twilio_api.PREFIX):
            return twilio_api
        if path.startswith(openphone_api.PREFIX):
            return openphone_api
        return None

    def _apply_fault(self, fault: FaultRule, module: Any) -> Response | None:
        if fault.timeout_ms is not None:
            return Response.hang_up((fault.latency_ms + fault.timeout_ms) / 1000)
        if fault.latency_ms:
            self.ctx.stopping.wait(fault.latency_ms / 1000)
        if fault.status is not None:
            response: Response = module.fault_response(fault.status)
            return response
        return None

    # --- /sandbox/* ------------------------------------------------------------------------------

    def _handle_admin(self, request: Request) -> Response:
        route = self._admin.get((request.method, request.path.rstrip("/")))
        if route is None:
            if any(path == request.path.rstrip("/") for _, path in self._admin):
                raise HttpError(
                    405, {"error": "method_not_allowed", "detail": f"{request.method} not allowed"}
                )
            raise not_found(request)
        return Response.json(200, route(request))

    def stats(self) -> dict[str, Any]:
        return {**self.ctx.store.stats(), "pending": self.ctx.delivery.pending()}

    def _configure(self, request: Request) -> dict[str, Any]:
        try:
            return self.ctx.configure(request.json_object()).describe()
        except ConfigError as exc:
            raise bad_request(str(exc)) from exc

    def _add_faults(self, request: Request) -> dict[str, Any]:
        payload = request.json()
        if isinstance(payload, dict) and payload.get("clear"):
            self.ctx.faults.clear()
            payload = {key: value for key, value in payload.items() if key != "clear"}
            if not payload:
                return {"faults": []}
        try:
            self.ctx.faults.add(*rules_from_json(payload))
        except FaultError as exc:
            raise bad_request(str(exc)) from exc
        return {"faults": self.ctx.faults.rules()}

    def _clear_faults(self, request: Request) -> dict[str, Any]:
        self.ctx.faults.clear()
        return {"faults": []}

    def _inbound(self, request: Request) -> dict[str, Any]:
        payload = request.json_object()
        provider = payload.get("provider")
        module = _PROVIDERS.get(provider) if isinstance(provider, str) else None
        if module is None:
            raise bad_request("'provider' must be 'twilio' or 'openphone'")
        return self.ctx.receive(str(provider), payload, module.inbound)

    def _calendar(self, request: Request) -> dict[str, Any]:
        """Sign a Cal.com / Calendly / own-calendar booking and post it to the stack (sandbox/calendar.py)."""
        from switchboard_ops.sandbox import calendar

        kind, event = calendar.parse(request.json_object())
        config = self.ctx.config
        outcome = self.ctx.delivery.post(
            calendar.calendar_webhook(config.api_url, kind, event, self.ctx.secrets)
        )
        outcome.done.wait(2 * config.webhook_timeout + config.retry_delay + 5.0)
        return {"kind": kind, "delivered": outcome.ok, "webhook_status": outcome.status}

    def _set_opt_out(self, request: Request) -> dict[str, Any]:
        payload = request.json_object()
        business, customer = payload.get("from"), payload.get("to")
        opted_out = payload.get("opted_out", True)
        if not is_e164(business) or not is_e164(customer) or not isinstance(opted_out, bool):
            raise bad_request("expected {'from': business E.164, 'to': recipient E.164, 'opted_out': bool}")
        self.ctx.store.set_opt_out(str(business), str(customer), opted_out)
        return {"opt_outs": self.ctx.store.opt_outs()}

    def _messages(self, request: Request) -> dict[str, Any]:
        provider = request.arg("provider")
        if provider is not None and provider not in _PROVIDERS:
            raise bad_request("provider must be twilio or openphone")
        return {"messages": [describe(message) for message in self.ctx.store.messages(provider)]}

    def _reset(self, request: Request) -> dict[str, Any]:
        self.ctx.reset()
        return {"reset": True}

    def _flush(self, request: Request) -> dict[str, Any]:
        payload = request.json_object()
        timeout = payload.get("timeout", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 120:
            raise bad_request("timeout must be a number of seconds from 0 to 120")
        return {"idle": self.ctx.delivery.wait_idle(float(timeout)), "pending": self.ctx.delivery.pending()}


def describe(message: StoredMessage) -> dict[str, Any]:
    """A provider-neutral view of a stored message (GET /sandbox/messages)."""
    return {
        "provider": message.provider,
        "id": message.id,
        "direction": message.direction,
        "from": message.sender,
        "to": list(message.recipients),
        "body": message.body,
        "status": message.status,
        "error_code": message.error_code,
        "created_at": message.created_at,
        "account": message.account,
    }


# --- the socket side -----------------------------------------------------------------------------


class _PayloadTooLargeError(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pooled session expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BYTES:
                    raise _PayloadTooLargeError
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            raise _PayloadTooLargeError
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except _PayloadTooLargeError:
            self.close_connection = True
            response = Response.json(413, {"error": "payload_too_large", "detail": "over 1 MB"})
        except ValueError:
            self.close_connection = True
            response = Response.json(400, {"error": "bad_request", "detail": "unreadable request body"})
        else:
            request = Request.build(self.command, self.path, dict(self.headers.items()), body)
            response = self.server.app.handle(request)
        if response.hold_seconds:
            self.server.app.ctx.stopping.wait(response.hold_seconds)
            self.close_connection = True  # hang up without an answer: the client's read timeout fires
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        if self.server.verbose:
            print(f"sandbox: {self.command} {self.path} -> {response.status}", file=sys.stderr)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _handle logs one line per request when verbose

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        if self.server.verbose:
            print(f"sandbox: {format % args}", file=sys.stderr)


class _Server(LocalHttpServer):
    block_on_close = False
    app: SandboxApp
    verbose: bool = False


class Sandbox:
    """The sandbox provider in-process: `Sandbox(api_url).start()`, `.url`, `.stop()` (or `with`)."""

    def __init__(
        self,
        api_url: str = "http://127.0.0.1:3000",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secrets: Mapping[str, Mapping[str, str]] | None = None,
        config: SandboxConfig | None = None,
        verbose: bool = False,
        **settings: Any,
    ) -> None:
        if secrets is None:
            from switchboard_ops.local.secrets import LOCAL_SECRETS

            secrets = LOCAL_SECRETS
        self.config_at_start = (config or SandboxConfig()).updated({"api_url": api_url, **settings})
        self.ctx = Context(self.config_at_start, secrets)
        self.app = SandboxApp(self.ctx)
        self._host, self._port, self._verbose = host, port, verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind now (a port in use fails here), then serve and deliver on background threads."""
        server = _Server((self._host, self._port), _Handler)
        server.app, server.verbose = self.app, self._verbose
        self._server = server
        self.ctx.stopping.clear()
        self.ctx.delivery.start()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.ctx.stopping.set()  # releases held ("timeout" fault) connections and latency sleeps
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.ctx.delivery.stop()

    def __enter__(self) -> Sandbox:
        return self.start() if self._server is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # --- credentials clients use -------------------------------------------------------------------

    @property
    def twilio_account_sid(self) -> str:
        return self.ctx.twilio_account_sid

    @property
    def twilio_auth_token(self) -> str:
        return self.ctx.twilio_auth_token

    @property
    def openphone_api_key(self) -> str:
        return self.ctx.openphone_api_key

    # --- test hooks (each also an HTTP route under /sandbox/) ------------------------------------

    @property
    def config(self) -> SandboxConfig:
        return self.ctx.config

    def configure(self, **changes: Any) -> SandboxConfig:
        return self.ctx.configure(changes)

    def inbound(
        self,
        provider: str,
        sender: str,
        recipient: str,
        body: str = "",
        media: list[Any] | None = None,
        *,
        date: str | float | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """As `POST /sandbox/inbound`: the provider receives a message and (maybe) delivers its webhook."""
        payload: dict[str, Any] = {
            "provider": provider,
            "from": sender,
            "to": recipient,
            "body": body,
            "media": media,
        }
        if date is not None:
            payload["date"] = date
        payload["wait"] = wait
        module = _PROVIDERS.get(provider)
        if module is None:
            raise ValueError("provider must be 'twilio' or 'openphone'")
        return self.ctx.receive(provider, payload, module.inbound)

    def set_opt_out(self, sender: str, recipient: str, opted_out: bool = True) -> None:
        """Sends from `sender` to `recipient` get 21610 (as if `recipient` had texted STOP to it)."""
        self.ctx.store.set_opt_out(sender, recipient, opted_out)

    def add_faults(self, *rules: FaultRule | dict[str, Any]) -> None:
        self.ctx.faults.add(
            *(rule if isinstance(rule, FaultRule) else FaultRule.from_json(rule) for rule in rules)
        )

    def clear_faults(self) -> None:
        self.ctx.faults.clear()

    def messages(self, provider: str | None = None) -> list[StoredMessage]:
        return self.ctx.store.messages(provider)

    def replies(self, provider: str | None = None) -> list[dict[str, Any]]:
        """What the reply APIs accepted (as `GET /sandbox/replies?provider=`)."""
        return self.ctx.store.replies(provider)

    def slack_messages(self) -> list[str]:
        """What the Slack incoming webhook (POST /slack/hook) received, in order."""
        return self.ctx.store.slack()

    def deliveries(self) -> list[dict[str, Any]]:
        return self.ctx.delivery.recent()

    def stats(self) -> dict[str, Any]:
        return self.app.stats()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is queued, scheduled or being delivered (status changes included)."""
        return self.ctx.delivery.wait_idle(timeout)

    def reset(self) -> None:
        self.ctx.reset()
