"""The route registry: every route resolves to a provider module and the parser named for it."""

from __future__ import annotations

import pytest

from switchboard.providers import ROUTES, TWILIO_STATUS, provider_of, twilio


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_route_loads_a_module_with_the_provider_interface(name):
    # When a route is loaded
    binding = ROUTES[name].load()

    # Then its module offers what ingest and the local stack call, and its parser is a function of it
    module = binding.module
    assert isinstance(module.SECRET_NAME, str) and module.SECRET_NAME
    assert module.CONTENT_TYPES
    assert callable(module.verify) and callable(module.signature_headers)
    assert binding.parse.__module__ == f"switchboard.providers.{ROUTES[name].provider}"


def test_the_status_route_is_parsed_by_twilios_status_parser():
    binding = ROUTES[TWILIO_STATUS].load()

    assert binding.parse is twilio.parse_status
    assert provider_of(TWILIO_STATUS) == "twilio"
    assert provider_of("nope") == "unknown"
