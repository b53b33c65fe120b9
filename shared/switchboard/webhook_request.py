"""A provider's HTTP request as verification and parsing need it: public URL, headers, raw body."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from switchboard.errors import MalformedPayload

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class WebhookRequest:
    route: str
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.url).query, keep_blank_values=True)

    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedPayload("body is not valid UTF-8") from exc

    def form(self) -> dict[str, list[str]]:
        try:
            return parse_qs(self.text(), keep_blank_values=True, strict_parsing=bool(self.body))
        except ValueError as exc:
            raise MalformedPayload("body is not valid application/x-www-form-urlencoded") from exc

    def json_object(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: "[[[[..." bodies
            raise MalformedPayload("body is not valid JSON") from exc
        if not isinstance(value, dict):
            raise MalformedPayload("JSON body must be an object")
        return value
