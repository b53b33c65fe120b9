"""The real twilio SDK's REST client, optionally pointed at another base URL (the local sandbox).

The SDK builds every URL from `https://<product>.twilio.com` (next-page links too, and edge/region
host rewriting after that), so the one reliable switch is the HTTP client: a TwilioHttpClient whose
`request` swaps any `https://*.twilio.com` scheme+host for `base_url`, keeping path and query.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit


def twilio_client(
    account_sid: str, auth_token: str, base_url: str | None = None, *, timeout: float | None = None
) -> Any:
    """`twilio.rest.Client`; with `base_url` every request goes there instead of Twilio."""
    from twilio.http.http_client import TwilioHttpClient  # lazy: twilio.rest costs ~100 ms to import
    from twilio.rest import Client

    http_client = (
        _rebased_client_class()(base_url, timeout=timeout) if base_url else TwilioHttpClient(timeout=timeout)
    )
    return Client(account_sid, auth_token, http_client=http_client)


def rebase(url: str, base_url: str) -> str:
    """`https://api.twilio.com/2010-04-01/...?q` -> `<base_url>/2010-04-01/...?q`; other hosts unchanged."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not (host == "twilio.com" or host.endswith(".twilio.com")):
        return url
    rebased = base_url.rstrip("/") + (parts.path or "/")
    return f"{rebased}?{parts.query}" if parts.query else rebased


@cache
def _rebased_client_class() -> Any:
    from twilio.http.http_client import TwilioHttpClient

    class RebasedTwilioHttpClient(TwilioHttpClient):
        def __init__(self, base_url: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.base_url = base_url

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            return super().request(method, rebase(url, self.base_url), *args, **kwargs)

    return RebasedTwilioHttpClient
