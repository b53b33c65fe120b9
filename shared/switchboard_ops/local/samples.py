"""Sample webhooks from events/ (payloads/*.json or the API Gateway events in ingest/*.json), re-signed
for a live URL and time: what `switchboard local curl` prints and what the e2e tests post."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from switchboard_ops.local.signing import signed_headers
from switchboard_ops.project import EVENTS

PAYLOADS = EVENTS / "payloads"
# Headers API Gateway or the client adds; never copied from a sample event into a new request.
_TRANSPORT_HEADERS = frozenset(
    {"host", "content-length", "x-forwarded-proto", "x-forwarded-for", "x-forwarded-port", "x-amzn-trace-id"}
)


@dataclass(frozen=True)
class Sample:
    """A provider's webhook: where it goes and what it carries, before signing."""

    name: str
    route: str
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # extra, unsigned headers (user-agent, ...)
    path_suffix: str = ""  # "?bodySHA256=..." and the like

    def url(self, api_url: str) -> str:
        return f"{api_url.rstrip('/')}/webhooks/{self.route}{self.path_suffix}"

    def signed(
        self, api_url: str, *, now: float | None = None, secrets: dict[str, dict[str, Any]] | None = None
    ) -> tuple[str, dict[str, str], bytes]:
        """(url, headers, body) signed the way the provider would sign a request to `api_url`."""
        url = self.url(api_url)
        body = _restamped(self.body, now)
        headers = signed_headers(
            self.route, url, body, self.content_type, secrets=secrets, now=now, extra=self.headers
        )
        return url, headers, body


def _restamped(body: bytes, now: float | None) -> bytes:
    """GHL signs a `timestamp` inside the body and Switchboard holds it to a 5-minute window: a replayed
    sample gets the current time there too, then a fresh signature."""
    if now is None or b'"timestamp"' not in body:
        return body
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if not isinstance(document, dict) or not isinstance(document.get("timestamp"), str):
        return body
    from datetime import UTC, datetime

    document["timestamp"] = (
        datetime.fromtimestamp(now, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    return json.dumps(document, separators=(",", ":")).encode()


def payload_names() -> list[str]:
    return sorted(path.stem for path in PAYLOADS.glob("*.json"))


def _from_payload(name: str, data: dict[str, Any]) -> Sample:
    return Sample(
        name=name,
        route=data["route"],
        content_type=data["content_type"],
        body=data["body"].encode("utf-8"),
        headers=dict(data.get("headers") or {}),
        path_suffix=data.get("path_suffix", ""),
    )


def _from_api_event(name: str, event: dict[str, Any]) -> Sample:
    """An events/ingest file: the route, body and plain headers; its old signature headers are dropped."""
    from switchboard.http_api import route_name

    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    route = route_name(event)
    content_type = headers.pop("content-type", "")
    query = event.get("rawQueryString") or ""
    sample = Sample(name, route, content_type, body, path_suffix=f"?{query}" if query else "")
    # Whatever headers signing produces are the signature; the rest (user-agent, ...) are kept.
    signature = set(signed_headers(route, sample.url("http://localhost"), body, content_type, now=0))
    extra = {key: value for key, value in headers.items() if key not in signature | _TRANSPORT_HEADERS}
    return Sample(name, route, content_type, body, extra, sample.path_suffix)


def load_sample(name_or_path: str) -> Sample:
    """A sample by payload name (`twilio_inbound_sms`), events/-relative name (`ingest/twilio_inbound_sms`)
    or file path. Raises FileNotFoundError listing the payload names when there is no such sample."""
    given = Path(name_or_path)
    stem = name_or_path.removesuffix(".json")
    candidates = [given] if given.suffix == ".json" and given.exists() else []
    candidates += [PAYLOADS / f"{stem}.json", EVENTS / f"{stem}.json", EVENTS / "ingest" / f"{stem}.json"]
    path = next((candidate for candidate in candidates if candidate.is_file()), None)
    if path is None:
        raise FileNotFoundError(
            f"no sample {name_or_path!r}; payloads: {', '.join(payload_names()) or 'none'}"
        )
    data = json.loads(path.read_text())
    if "route" in data and "body" in data:
        return _from_payload(path.stem, data)
    if "requestContext" in data or "rawPath" in data:
        return _from_api_event(path.stem, data)
    raise FileNotFoundError(f"{path} is neither a payload (route, body) nor an API Gateway event")
