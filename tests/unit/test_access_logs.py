"""The HTTP API's access log: one JSON line per request with what an operator needs to see gateway-level
404s, throttling and abuse (request id, route, status, latencies, source IP) — and never the body."""

from __future__ import annotations

import json
import re
from typing import Any

from switchboard_ops.local.template import load_template

# The API Gateway HTTP API $context variables each field must carry (developer guide, "Customize HTTP API
# access logs"): the real names, so a typo cannot log an empty field in production.
REQUIRED = {
    "requestId": "$context.requestId",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "sourceIp": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "userAgent": "$context.identity.userAgent",
    "errorMessage": "$context.error.message",
}


def access_log_settings() -> dict[str, Any]:
    settings: dict[str, Any] = load_template()["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]
    return settings


def test_the_access_log_format_is_one_json_object_with_the_operators_fields() -> None:
    # Given the template's access log format
    fields = json.loads(access_log_settings()["Format"])

    # Then each required field is the documented $context variable
    assert {name: fields.get(name) for name in REQUIRED} == REQUIRED


def test_the_access_log_never_carries_the_request_body() -> None:
    text = access_log_settings()["Format"]

    assert not re.search(r"body|\$input|\$request", text, re.IGNORECASE)


def test_every_access_log_value_is_a_quoted_variable_so_a_dash_stays_valid_json() -> None:
    # A latency is "-" when no integration ran (a 404): unquoted, that line would not parse.
    fields = json.loads(access_log_settings()["Format"])

    assert all(isinstance(value, str) and value.startswith("$context.") for value in fields.values())


def test_the_access_logs_go_to_a_log_group_kept_for_the_stacks_retention() -> None:
    resources = load_template()["Resources"]
    destination = access_log_settings()["DestinationArn"]

    assert destination == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}
    assert resources["HttpApiAccessLogGroup"]["Type"] == "AWS::Logs::LogGroup"
    assert resources["HttpApiAccessLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
