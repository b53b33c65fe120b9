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


def _fresh(identifier: str) -> str:
    """Same length and shape as a provider id, never seen before: the last 8 characters replaced."""
    import uuid

    suffix = uuid.uuid4().hex[:8]
    return identifier[: -len(suffix)] + suffix if len(identifier) > len(suffix) else identifier + suffix


def _canonical(sample: Sample) -> Any:
    """The sample as ingest would parse it (a Message or StatusUpdate), or None for an ignored event."""
    import time

    from switchboard.providers import ROUTES
    from switchboard.webhook_request import WebhookRequest
    from switchboard_ops.local.secrets import webhook_secrets_document

    route = ROUTES.get(sample.route)
    if route is None:
        raise ValueError(f"{sample.name}: no provider route {sample.route!r}")
    request = WebhookRequest(
        route=sample.route,
        url=sample.url("http://localhost"),
        body=sample.body,
        headers={**sample.headers, "content-type": sample.content_type},
    )
    binding = route.load()
    return binding.parse(request, time.time(), webhook_secrets_document().get(binding.module.SECRET_NAME))


def _replace_text(document: Any, old: str, new: str) -> tuple[Any, int]:
    """Every string in a JSON document equal to `old` (or, failing that, containing it) -> `new`."""

    def walk(value: Any, exact: bool) -> tuple[Any, int]:
        if isinstance(value, str):
            if value == old:
                return new, 1
            if not exact and old in value:
                return value.replace(old, new), 1
            return value, 0
        if isinstance(value, dict):
            pairs = {key: walk(item, exact) for key, item in value.items()}
            return {key: pair[0] for key, pair in pairs.items()}, sum(pair[1] for pair in pairs.values())
        if isinstance(value, list):
            walked = [walk(item, exact) for item in value]
            return [pair[0] for pair in walked], sum(pair[1] for pair in walked)
        return value, 0

    changed, count = walk(document, exact=True)
    return (changed, count) if count else walk(document, exact=False)


def with_changes(sample: Sample, *, body: str | None = None, new_id: bool = False) -> Sample:
    """The sample with its message text replaced by `body` and/or under a never-seen message id.

    A changed text implies a new id: under the sample's own id it would only be a duplicate. The text is
    found by parsing the sample as ingest does, then replaced where it sits: the form field (Twilio's
    Body) or the JSON string(s) holding it. Raises ValueError when the sample has no such text.
    """
    if body is None and not new_id:
        return sample
    event = _canonical(sample)
    if event is None:
        raise ValueError(f"{sample.name} is an event ingest ignores: there is no message to change")
    raw = sample.body
    if body is not None:
        old = getattr(event, "body", "") or ""
        if not old:
            raise ValueError(f"{sample.name} carries no message text to replace (a {event.kind} event)")
        if sample.content_type.startswith("application/x-www-form-urlencoded"):
            from urllib.parse import parse_qsl, urlencode

            fields = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
            replaced = [(key, body if value == old else value) for key, value in fields]
            if replaced == fields:
                raise ValueError(f"{sample.name}: no form field holds the message text")
            raw = urlencode(replaced).encode("utf-8")
        else:
            document, count = _replace_text(json.loads(raw), old, body)
            if not count:
                raise ValueError(f"{sample.name}: no JSON field holds the message text")
            raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    message_id = event.provider_message_id
    if message_id.encode("utf-8") not in raw:
        raise ValueError(f"{sample.name}: its message id {message_id} does not appear literally in the body")
    raw = raw.replace(message_id.encode("utf-8"), _fresh(message_id).encode("utf-8"))
    return Sample(sample.name, sample.route, sample.content_type, raw, sample.headers, sample.path_suffix)
