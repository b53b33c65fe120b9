"""One module per provider: `verify()` over the raw body, `parse()` into the canonical model, and signing
helpers for tests and the local stack. Modules load lazily: a webhook imports only its own provider."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from switchboard.models import Event
from switchboard.webhook_request import WebhookRequest


class ProviderModule(Protocol):
    SECRET_NAME: str
    CONTENT_TYPES: frozenset[str]

    def verify(self, request: WebhookRequest, secrets: dict[str, Any], now: float) -> None: ...


@dataclass(frozen=True)
class Route:
    """`POST /webhooks/<name>` is verified by `module.verify` and parsed by `module.<parser>`."""

    name: str
    module: str
    parser: str
    keyed: bool = False  # the parser takes the route's secrets: it derives ids with a keyed hash

    @property
    def provider(self) -> str:
        return self.module

    def load(self) -> ModuleType:
        return importlib.import_module(f"switchboard.providers.{self.module}")

    def parse(
        self, request: WebhookRequest, received_at: float, secrets: Mapping[str, Any] | None = None
    ) -> Event | None:
        parser = getattr(self.load(), self.parser)
        return parser(request, received_at, secrets) if self.keyed else parser(request, received_at)


ROUTES: dict[str, Route] = {
    route.name: route
    for route in (
        Route("twilio", "twilio", "parse_message"),
        Route("twilio/status", "twilio", "parse_status"),
        Route("openphone", "openphone", "parse"),
        Route("ghl", "ghl", "parse"),
        Route("unipile", "unipile", "parse"),
        Route("smartlead", "smartlead", "parse"),
        Route("instantly", "instantly", "parse", keyed=True),
    )
}


def provider_of(route_name: str) -> str:
    """The provider a route belongs to ("twilio" for "twilio/status"); "unknown" for no route."""
    route = ROUTES.get(route_name)
    return route.provider if route else "unknown"
