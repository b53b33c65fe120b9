"""The webhook routes: `POST /webhooks/<name>` -> the provider module that verifies it and the parser that
turns it into the canonical model. Each provider module satisfies `WebhookProvider`; modules load lazily
(each route's loader imports its own module), so a webhook imports only its own provider."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from switchboard.models import Event
from switchboard.webhook_request import WebhookRequest

TWILIO: Final = "twilio"
TWILIO_STATUS: Final = "twilio/status"
OPENPHONE: Final = "openphone"
GHL: Final = "ghl"
UNIPILE: Final = "unipile"
SMARTLEAD: Final = "smartlead"
INSTANTLY: Final = "instantly"


class WebhookProvider(Protocol):
    """What every module in switchboard.providers offers ingest, the local stack and the tests."""

    SECRET_NAME: str
    CONTENT_TYPES: frozenset[str]

    def verify(self, request: WebhookRequest, secrets: dict[str, Any], now: float) -> None: ...

    def signature_headers(
        self, url: str, body: bytes, client_secrets: dict[str, str], now: float
    ) -> dict[str, str]: ...


Parser = Callable[[WebhookRequest, float], Event | None]
Secrets = Mapping[str, Any] | None
# What ingest calls: the parser with the route's secrets (a keyed parser derives ids with a keyed hash).
KeyedParser = Callable[[WebhookRequest, float, Secrets], Event | None]


def _unkeyed(parser: Parser) -> KeyedParser:
    """A parser that needs no secrets, called the way ingest calls every parser."""

    def parse(request: WebhookRequest, received_at: float, secrets: Secrets = None) -> Event | None:
        return parser(request, received_at)

    return parse


@dataclass(frozen=True)
class Binding:
    """A route's provider module and its parser, once loaded."""

    module: WebhookProvider
    parse: KeyedParser


@dataclass(frozen=True)
class Route:
    name: str
    provider: str
    load: Callable[[], Binding]

    def parse(self, request: WebhookRequest, received_at: float, secrets: Secrets = None) -> Event | None:
        return self.load().parse(request, received_at, secrets)


def _twilio_messages() -> Binding:
    from switchboard.providers import twilio

    return Binding(twilio, _unkeyed(twilio.parse_message))


def _twilio_statuses() -> Binding:
    from switchboard.providers import twilio

    return Binding(twilio, _unkeyed(twilio.parse_status))


def _openphone() -> Binding:
    from switchboard.providers import openphone

    return Binding(openphone, _unkeyed(openphone.parse))


def _ghl() -> Binding:
    from switchboard.providers import ghl

    return Binding(ghl, _unkeyed(ghl.parse))


def _unipile() -> Binding:
    from switchboard.providers import unipile

    return Binding(unipile, _unkeyed(unipile.parse))


def _smartlead() -> Binding:
    from switchboard.providers import smartlead

    return Binding(smartlead, _unkeyed(smartlead.parse))


def _instantly() -> Binding:
    from switchboard.providers import instantly

    return Binding(instantly, instantly.parse)


ROUTES: dict[str, Route] = {
    route.name: route
    for route in (
        Route(TWILIO, TWILIO, _twilio_messages),
        Route(TWILIO_STATUS, TWILIO, _twilio_statuses),
        Route(OPENPHONE, OPENPHONE, _openphone),
        Route(GHL, GHL, _ghl),
        Route(UNIPILE, UNIPILE, _unipile),
        Route(SMARTLEAD, SMARTLEAD, _smartlead),
        Route(INSTANTLY, INSTANTLY, _instantly),
    )
}


def provider_of(route_name: str) -> str:
    """The provider a route belongs to ("twilio" for "twilio/status"); "unknown" for no route."""
    route = ROUTES.get(route_name)
    return route.provider if route else "unknown"
