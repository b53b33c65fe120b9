"""Request and response values the sandbox's routes work with: no sockets, so every route is testable."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

E164 = re.compile(r"^\+[1-9]\d{1,14}$")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""

    @classmethod
    def build(
        cls, method: str, target: str, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> Request:
        path, _, query = target.partition("?")
        lowered = {name.lower(): value for name, value in (headers or {}).items()}
        return cls(method.upper(), path or "/", parse_qs(query, keep_blank_values=True), lowered, body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(400, {"error": "bad_request", "detail": "the body is not valid JSON"}) from exc

    def json_object(self) -> dict[str, Any]:
        payload = self.json()
        if payload is None:
            return {}
        if not isinstance(payload, dict):
            raise HttpError(400, {"error": "bad_request", "detail": "the body must be a JSON object"})
        return payload

    def form(self) -> dict[str, list[str]]:
        try:
            return parse_qs(self.body.decode(), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise HttpError(400, {"error": "bad_request", "detail": "the form body is not UTF-8"}) from exc


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    hold_seconds: float = 0.0  # a "timeout" fault: hold the connection this long, then close, no answer

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, [("Content-Type", "application/json"), *(headers or {}).items()])

    @classmethod
    def hang_up(cls, seconds: float) -> Response:
        return cls(0, hold_seconds=seconds)


class HttpError(Exception):
    """Raised anywhere under a route; the server answers it as JSON (never a stack trace)."""

    def __init__(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}: {payload}")
        self.status = status
        self.payload = payload
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return Response.json(self.status, self.payload, self.headers)


def phone_arg(value: str | None) -> str | None:
    """A phone number from a query string: an unencoded '+' arrives as a space, so put it back."""
    if value is None:
        return None
    stripped = value.strip()
    if value.startswith(" ") and stripped[:1].isdigit():
        return "+" + stripped
    return stripped


def is_e164(value: object) -> bool:
    return isinstance(value, str) and bool(E164.match(value))
