"""A provider's HTTP request as verification and parsing need it: public URL, headers, raw body."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from switchboard.errors import MalformedPayload

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# A JSON \uD800-\uDFFF escape: the only way a lone surrogate (not encodable as UTF-8) gets into a str.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: Any) -> Any:
    """Every string, dict key included, with lone surrogates replaced by U+FFFD (see README)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


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
            # errors="replace": invalid percent-encoded UTF-8 becomes U+FFFD, as a lone surrogate does in JSON
            return parse_qs(
                self.text(), keep_blank_values=True, strict_parsing=bool(self.body), errors="replace"
            )
        except ValueError as exc:
            raise MalformedPayload("body is not valid application/x-www-form-urlencoded") from exc

    def json_object(self) -> dict[str, Any]:
        try:
            # As json.loads(bytes) decodes: "surrogatepass" lets UTF-8's form of U+D800-DFFF through
            # (CESU-8 / "modified UTF-8" senders), so a surrogate can arrive without any \u escape.
            text = self.body.decode(json.detect_encoding(self.body), "surrogatepass")
            value = json.loads(text)
            if _SURROGATE_ESCAPE.search(self.body) or _SURROGATE.search(text):
                # Stored, not refused: a lone surrogate is a sender bug, the rest of the message is real.
                value = _clean(value)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: "[[[[..." bodies
            raise MalformedPayload("body is not valid JSON") from exc
        if not isinstance(value, dict):
            raise MalformedPayload("JSON body must be an object")
        return value
