"""The local API's route table (API Gateway's matching rules) and request dispatch, with no sockets."""

from __future__ import annotations

import base64
import json

import pytest

from switchboard_ops.local.api import LocalApi, response_from_result
from switchboard_ops.local.functions import HttpRoute, function_specs
from switchboard_ops.local.routes import RouteTable
from switchboard_ops.local.template import load_template


def table(*routes: str) -> RouteTable:
    """RouteTable("POST /webhooks/{provider+}", ...): each route's function is named after the route."""
    return RouteTable(_route(route) for route in routes)


def _route(route_key: str) -> HttpRoute:
    method, path = route_key.split(" ", 1)
    return HttpRoute(method, path, function=route_key)


def test_the_template_routes_every_webhook_path_to_ingest_with_the_greedy_parameter():
    # Given the routes template.yaml declares
    routes = RouteTable(route for spec in function_specs(load_template()).values() for route in spec.routes)

    # When webhook paths are matched
    match = routes.match("POST", "/webhooks/twilio/status")

    # Then IngestFunction gets them, with everything after /webhooks/ as {provider+}
    assert match is not None
    assert match.route.function == "IngestFunction"
    assert match.route.route_key == "POST /webhooks/{provider+}"
    assert match.path_parameters == {"provider": "twilio/status"}
    assert routes.match("GET", "/webhooks/twilio") is None
    assert routes.match("POST", "/webhooks/") is None
    assert routes.match("POST", "/webhooks") is None


@pytest.mark.parametrize(
    ("path", "function", "parameters"),
    [
        ("/webhooks/twilio", "POST /webhooks/twilio", {}),  # a literal beats a parameter
        ("/webhooks/ghl", "POST /webhooks/{provider}", {"provider": "ghl"}),  # one segment beats greedy
        ("/webhooks/ghl/v2/x", "POST /webhooks/{provider+}", {"provider": "ghl/v2/x"}),
        ("/users/42/messages", "POST /users/{id}/messages", {"id": "42"}),
        ("/webhooks/a%20b", "POST /webhooks/{provider}", {"provider": "a b"}),  # values URL-decoded
        ("/elsewhere", "ANY /{proxy+}", {"proxy": "elsewhere"}),
    ],
)
def test_the_most_specific_route_wins(path, function, parameters):
    routes = table(
        "ANY /{proxy+}",
        "POST /webhooks/{provider+}",
        "POST /webhooks/{provider}",
        "POST /webhooks/twilio",
        "POST /users/{id}/messages",
    )

    match = routes.match("POST", path)

    assert match is not None
    assert (match.route.function, match.path_parameters) == (function, parameters)


def test_single_segment_parameters_do_not_cross_slashes_and_methods_must_match():
    routes = table("GET /users/{id}")

    assert routes.match("GET", "/users/1/2") is None
    assert routes.match("GET", "/users/") is None
    assert routes.match("POST", "/users/1") is None
    assert routes.match("get", "/users/1") is not None


def test_default_route_catches_what_nothing_else_matches():
    routes = table("POST /webhooks/{provider+}", "ANY $default")

    webhook, anything = routes.match("POST", "/webhooks/x"), routes.match("DELETE", "/anything/at/all")

    assert webhook is not None and webhook.route.function == "POST /webhooks/{provider+}"
    assert anything is not None and anything.route.function == "ANY $default"


def test_a_greedy_parameter_must_be_last():
    with pytest.raises(ValueError, match="greedy"):
        table("POST /{proxy+}/x")


class Recorder:
    def __init__(self, result=None, error=None):
        self.events, self.result, self.error = [], result, error

    def invoke(self, event):
        self.events.append(event)
        if self.error:
            raise self.error
        return self.result


def api(function: Recorder) -> LocalApi:
    return LocalApi(
        table("POST /webhooks/{provider+}"),
        {"POST /webhooks/{provider+}": function},
        base_url="http://127.0.0.1:3000",
    )


def test_a_request_becomes_an_http_api_v2_event_with_the_matched_route():
    function = Recorder({"statusCode": 202, "headers": {"X-Id": "1"}, "body": '{"ok":true}'})

    response = api(function).dispatch(
        "POST",
        "/webhooks/twilio/status?a=1",
        [("Host", "127.0.0.1:3000"), ("Content-Type", "text/plain"), ("X-Multi", "a"), ("X-Multi", "b")],
        b"hello",
    )

    assert (response.status, response.body) == (202, b'{"ok":true}')
    assert ("X-Id", "1") in response.headers
    event = function.events[0]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /webhooks/{provider+}"
    assert event["rawPath"] == "/webhooks/twilio/status"
    assert event["rawQueryString"] == "a=1"
    assert event["pathParameters"] == {"provider": "twilio/status"}
    assert event["headers"]["x-multi"] == "a,b"
    assert event["body"] == "hello"


def test_gateway_answers_404_without_calling_a_function_and_500_when_it_fails():
    function = Recorder(error=RuntimeError("boom"))

    missing = api(function).dispatch("GET", "/webhooks/twilio", [], b"")
    failed = api(function).dispatch("POST", "/webhooks/twilio", [], b"")

    assert (missing.status, json.loads(missing.body)) == (404, {"message": "Not Found"})
    assert (failed.status, json.loads(failed.body)) == (500, {"message": "Internal Server Error"})
    assert len(function.events) == 1


def test_responses_follow_payload_format_2():
    binary = response_from_result(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    inferred = response_from_result({"ok": True})

    assert binary.body == b"\x00\x01"
    assert (inferred.status, json.loads(inferred.body)) == (200, {"ok": True})
    with pytest.raises(ValueError):
        response_from_result({"statusCode": "200"})
