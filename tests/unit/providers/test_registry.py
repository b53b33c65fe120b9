"""The route registry: every route resolves to a provider module and the parser named for it."""

from __future__ import annotations

import pytest

from switchboard.models import StatusUpdate
from switchboard.providers import ROUTES, TWILIO_STATUS, provider_of
from switchboard.webhook_request import WebhookRequest
from switchboard_ops.local.samples import load_sample


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_route_loads_a_module_with_the_provider_interface(name):
    # When a route is loaded
    binding = ROUTES[name].load()

    # Then its module, the route's provider, offers what ingest and the local stack call
    module = binding.module
    assert module.__name__ == f"switchboard.providers.{ROUTES[name].provider}"  # type: ignore[attr-defined]
    assert isinstance(module.SECRET_NAME, str) and module.SECRET_NAME
    assert module.CONTENT_TYPES
    assert callable(module.verify) and callable(module.signature_headers) and callable(binding.parse)


def test_the_status_route_is_parsed_by_twilios_status_parser():
    # Given a Twilio status callback
    sample = load_sample("twilio_status_delivered")
    request = WebhookRequest(
        route=TWILIO_STATUS,
        url=sample.url("http://localhost"),
        body=sample.body,
        headers={"content-type": sample.content_type},
    )

    # When the status route parses it, Then it is Twilio's status update
    update = ROUTES[TWILIO_STATUS].parse(request, 1_700_000_000.0)
    assert isinstance(update, StatusUpdate) and update.status == "delivered"
    assert provider_of(TWILIO_STATUS) == "twilio"
    assert provider_of("nope") == "unknown"
