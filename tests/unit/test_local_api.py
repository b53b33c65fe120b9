"""The local API's route table (API Gateway's matching rules) and request dispatch, with no network: the
raw-HTTP cases run the real server class over a socket pair (the unit tier forbids connect())."""

from __future__ import annotations

import base64
import json
import socket

import pytest

from switchboard_ops.local.api import LocalApi, _RequestHandler, _Server, response_from_result
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


def exchange(raw_request: bytes) -> tuple[int, dict[str, str], bytes, Recorder]:
    """Raw bytes through the real HTTP server class and handler: the status, headers and body it wrote."""
    function = Recorder({"statusCode": 200, "body": "ok"})
    server = _Server(("127.0.0.1", 0), _RequestHandler, bind_and_activate=False)
    server.api = api(function)
    client, served = socket.socketpair()
    with server, client, served:
        client.sendall(raw_request)
        client.shutdown(socket.SHUT_WR)
        server.finish_request(served, ("127.0.0.1", 50000))  # handles every request until end of input
        served.close()
        answer = b"".join(iter(lambda: client.recv(65536), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, body, function


def request(method: str, host_lines: str = "Host: 127.0.0.1:3000\r\n") -> bytes:
    return f"{method} /webhooks/twilio HTTP/1.1\r\n{host_lines}Content-Length: 0\r\n\r\n".encode()


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "FOO"])
def test_a_method_other_than_post_on_a_webhook_route_gets_the_gateways_json_404(method):
    # Given the webhook route accepts only POST
    # When another method, known or not, is used on it
    status, headers, body, function = exchange(request(method))

    # Then API Gateway's JSON 404 comes back (not an HTML 501), and no function runs
    assert (status, headers["content-type"]) == (404, "application/json")
    assert json.loads(body) == {"message": "Not Found"}
    assert function.events == []


def test_head_on_a_webhook_route_gets_a_404_without_a_body():
    status, headers, body, function = exchange(request("HEAD"))

    assert (status, headers["content-type"], body) == (404, "application/json", b"")
    assert function.events == []


@pytest.mark.parametrize(
    "host_lines",
    [
        "Host: \r\n",
        "Host: bad host\r\n",
        "Host: b\u00fccher.example\r\n",  # non-ASCII, sent as UTF-8 bytes
        "Host: a.example\r\nHost: b.example\r\n",
    ],
    ids=["empty", "spaces", "non-ascii", "two-hosts"],
)
def test_a_malformed_host_gets_a_json_400_and_reaches_no_function(host_lines):
    # When a POST to a real route carries a malformed Host header
    status, headers, body, function = exchange(request("POST", host_lines))

    # Then the gateway answers 400 in its JSON shape, before any function runs
    assert (status, headers["content-type"]) == (400, "application/json")
    assert json.loads(body) == {"message": "Bad Request"}
    assert function.events == []


def test_a_well_formed_post_still_reaches_the_function():
    status, _, body, function = exchange(request("POST", "Host: [::1]:3000\r\n"))

    assert (status, body, len(function.events)) == (200, b"ok", 1)


def test_a_malformed_request_line_gets_json_not_an_html_page():
    status, headers, body, function = exchange(b"POST /webhooks/twilio HTTP/9\r\n\r\n")

    assert (status, headers["content-type"]) == (400, "application/json")
    assert json.loads(body) == {"message": "Bad Request"}
    assert function.events == []
