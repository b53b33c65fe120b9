"""Sending through a provider's REST API, with every failure sorted into one of three kinds.

Rejected: the provider refused it (4xx) — never retried. Unavailable: it was certainly not accepted
(429, 5xx, connection refused) — safe to retry. Ambiguous: it may have been sent (a read timeout) —
never blindly re-sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from switchboard.models.outbound import SendRequest


@dataclass(frozen=True)
class Sent:
    provider_message_id: str
    status: str


class SendRejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class SendUnavailable(Exception):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # the provider's Retry-After (seconds), when it sent one


class SendAmbiguous(Exception):
    pass


UNSUBSCRIBED_RECIPIENT = "21610"  # Twilio: the recipient texted STOP
DEFAULT_OPENPHONE_API = "https://api.openphone.com"
_TIMEOUT = (3.05, 10)  # connect, read (seconds)


@cache
def http_session() -> Any:
    """One keep-alive session per container: no new TCP + TLS handshake for every message."""
    import requests

    return requests.Session()


@cache
def _twilio(account_sid: str, auth_token: str, base_url: str | None) -> Any:
    from switchboard.providers.twilio_rest import twilio_client

    # a bounded wait: a provider that never answers must not hold the sender until its Lambda timeout
    return twilio_client(account_sid, auth_token, base_url=base_url, timeout=_TIMEOUT[1])


def classify_transport_error(exc: Exception) -> Exception:
    import requests

    if isinstance(
        exc, requests.exceptions.ConnectTimeout | requests.exceptions.ConnectionError
    ) and not isinstance(exc, requests.exceptions.ReadTimeout):
        return SendUnavailable(f"could not connect: {type(exc).__name__}")
    return SendAmbiguous(f"no answer after the request was sent: {type(exc).__name__}")


def send_twilio(
    request: SendRequest,
    credentials: dict[str, Any],
    *,
    status_callback: str | None,
    base_url: str | None = None,
) -> Sent:
    import requests
    from twilio.base.exceptions import TwilioRestException

    client = _twilio(credentials["account_sid"], credentials["auth_token"], base_url)
    prefix = "whatsapp:" if request.channel == "whatsapp" else ""
    try:
        message = client.messages.create(
            to=prefix + request.recipient,
            from_=prefix + request.sender,
            body=request.body,
            status_callback=status_callback,
        )
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise SendUnavailable(f"Twilio answered {exc.status} ({exc.code})") from exc
        raise SendRejected(str(exc.code or exc.status), str(exc.msg)) from exc
    except requests.exceptions.RequestException as exc:
        raise classify_transport_error(exc) from exc
    return Sent(provider_message_id=str(message.sid), status=str(message.status))


def send_openphone(request: SendRequest, credentials: dict[str, Any], *, base_url: str | None = None) -> Sent:
    import requests

    url = f"{(base_url or DEFAULT_OPENPHONE_API).rstrip('/')}/v1/messages"
    try:
        response = requests.post(
            url,
            json={"content": request.body, "from": request.sender, "to": [request.recipient]},
            headers={"Authorization": credentials["api_key"]},
            timeout=_TIMEOUT,
        )
    except requests.exceptions.RequestException as exc:
        raise classify_transport_error(exc) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise SendUnavailable(f"OpenPhone answered {response.status_code}")
    if response.status_code >= 400:
        raise SendRejected(str(response.status_code), response.text[:300])
    try:
        message = response.json()["data"]
        return Sent(provider_message_id=str(message["id"]), status=str(message.get("status", "queued")))
    except (ValueError, KeyError, TypeError) as exc:
        raise SendAmbiguous("OpenPhone accepted the message but its answer had no id") from exc
