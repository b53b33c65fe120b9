"""Bad input gets a clear 4xx JSON error, a metric, and nothing stored — never a 5xx, never a trace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.providers import ROUTES
from switchboard_ops.local.apigw import http_api_event
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
SAMPLE = "ingest/twilio_inbound_sms"


def nothing_stored(dynamodb: Any, sqs: Any, stack: Any) -> bool:
    items = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    depth = sqs.get_queue_attributes(
        QueueUrl=stack.queues["ProcessingQueue"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return items == [] and depth["ApproximateNumberOfMessages"] == "0"


def emitted_metrics(output: str) -> list[dict[str, Any]]:
    """Powertools EMF documents printed to stdout: [{name, dimensions...}]."""
    found = []
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                found.append({"name": metric["Name"], "provider": document.get("provider")})
    return found


def tampered(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**event, **changes}


def with_headers(event: dict[str, Any], **headers: str) -> dict[str, Any]:
    return {**event, "headers": {**event["headers"], **headers}}


BAD_REQUESTS = {
    "unsigned": (
        lambda e: {**e, "headers": {k: v for k, v in e["headers"].items() if k != "x-twilio-signature"}},
        401,
        "invalid_signature",
        "SignatureRejected",
    ),
    "forged signature": (
        lambda e: with_headers(e, **{"x-twilio-signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}),
        401,
        "invalid_signature",
        "SignatureRejected",
    ),
    "replayed to another URL": (
        lambda e: {**e, "rawQueryString": "x=1"},
        401,
        "invalid_signature",
        "SignatureRejected",
    ),
    "unknown provider": (
        lambda e: {**e, "rawPath": "/webhooks/acme", "pathParameters": {"provider": "acme"}},
        404,
        "unknown_provider",
        "BadRequests",
    ),
    "unsupported content type": (
        lambda e: with_headers(e, **{"content-type": "text/xml"}),
        415,
        "unsupported_content_type",
        "BadRequests",
    ),
    "oversized body": (
        lambda e: {**e, "body": "Body=" + "x" * (256 * 1024)},
        413,
        "payload_too_large",
        "BadRequests",
    ),
    "broken base64": (
        lambda e: {**e, "isBase64Encoded": True, "body": "%%%"},
        400,
        "malformed_payload",
        "BadRequests",
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_input_gets_its_4xx_a_metric_and_nothing_stored(
    case, stack, dynamodb, sqs, lambda_context, capsys
):
    # Given a sample webhook spoiled in one way
    spoil, status, error, metric = BAD_REQUESTS[case]
    event = spoil(load_event(SAMPLE))

    # When it reaches the handler
    response = ingest.handler(event, lambda_context)

    # Then the caller gets the documented status and a JSON error, a metric counts it, nothing is kept
    assert response["statusCode"] == status
    body = json.loads(response["body"])
    assert body["error"] == error and body["detail"]
    assert metric in [m["name"] for m in emitted_metrics(capsys.readouterr().out)]
    assert nothing_stored(dynamodb, sqs, stack)


def test_a_signed_but_malformed_payload_is_a_400(stack, dynamodb, sqs, lambda_context):
    # Given a correctly signed Twilio webhook that lacks From/To
    from switchboard.providers.twilio import signature_headers
    from switchboard_ops.local.secrets import LOCAL_SECRETS

    url, body = "http://127.0.0.1:3000/webhooks/twilio", b"MessageSid=SM1&Body=hi"
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        **signature_headers(url, body, LOCAL_SECRETS["twilio"], 0),
    }

    response = ingest.handler(http_api_event(url, body, headers), lambda_context)

    assert response["statusCode"] == 400
    assert "From" in json.loads(response["body"])["detail"]
    assert nothing_stored(dynamodb, sqs, stack)


def test_a_route_without_configured_secret_rejects_a_valid_webhook(stack, dynamodb, sqs, lambda_context):
    # Given the deployed default: an empty secrets document
    from switchboard.dal.aws import client

    client("secretsmanager").put_secret_value(SecretId=stack.secrets["WebhookSecrets"], SecretString="{}")

    response = ingest.handler(load_event(SAMPLE), lambda_context)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "route_not_configured"
    assert nothing_stored(dynamodb, sqs, stack)


def test_accepted_webhooks_are_counted_by_provider(stack, lambda_context, capsys):
    ingest.handler(load_event(SAMPLE), lambda_context)

    assert {"name": "WebhooksReceived", "provider": "twilio"} in emitted_metrics(capsys.readouterr().out)


header_names = st.sampled_from(
    [
        "content-type",
        "x-twilio-signature",
        "openphone-signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "x-ghl-signature",
        "x-wh-signature",
        "unipile-auth",
        "authorization",
        "x-anything",
    ]
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-8",
        "text/plain",
        "",
    ]
)
bodies = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=512).map(str.encode),
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3)),
        max_size=6,
    ).map(lambda d: json.dumps(d).encode()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from([*ROUTES, "", "nope", "twilio/extra"]),
    body=bodies,
    content_type=content_types,
    headers=st.dictionaries(header_names, st.text(max_size=80), max_size=5),
)
def test_random_requests_never_get_a_5xx_and_store_nothing(
    stack, dynamodb, sqs, lambda_context, route, body, content_type, headers
):
    event = http_api_event(
        f"http://127.0.0.1:3000/webhooks/{route}", body, {**headers, "content-type": content_type}
    )

    response = ingest.handler(event, lambda_context)

    assert 400 <= response["statusCode"] < 500, response
    assert set(json.loads(response["body"])) == {"error", "detail"}
    assert nothing_stored(dynamodb, sqs, stack)


# --- correctly signed fuzz: every route's sample, one field at a time ----------------------------------
# Lengths around every canonical model's max_length (an over-long id was a 500) and any code point,
# lone surrogates included (JSON `\ud800` escapes and invalid percent-encoded UTF-8 were 503 forever).
def _max_lengths() -> list[int]:
    from switchboard.models import Message, StatusUpdate

    return sorted(
        {
            getattr(rule, "max_length", None)
            for model in (Message, StatusUpdate)
            for field in model.model_fields.values()
            for rule in field.metadata
        }
        - {None}
    )


FIELD_LENGTHS = sorted({0, 1, *(n + step for n in _max_lengths() for step in (-1, 0, 1))})
any_code_point = st.characters(exclude_categories=())  # () lets in Cs: surrogates are the point
field_values = st.one_of(
    st.text(any_code_point, max_size=24),
    st.builds(lambda n, c: (c * n)[:n], st.sampled_from(FIELD_LENGTHS), st.text(any_code_point, min_size=1)),
)


def _json_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every string value, and ("key", path) for every dict key, of a JSON document."""
    if isinstance(value, dict):
        found = [("key", *path, key) for key in value]
        for key, item in value.items():
            found += _json_leaves(item, (*path, key))
        return found
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _json_leaves(item, (*path, index))]
    return [("value", *path)] if isinstance(value, str) else []


def _replaced(document: Any, leaf: tuple[Any, ...], new: str) -> Any:
    kind, *path = leaf
    if len(path) == 1:
        if kind == "key":
            return {new if key == path[0] else key: item for key, item in document.items()}
        return _replace_at(document, path[0], new)
    return _replace_at(document, path[0], _replaced(document[path[0]], (kind, *path[1:]), new))


def _replace_at(container: Any, key: Any, new: Any) -> Any:
    if isinstance(container, list):
        return [new if index == key else item for index, item in enumerate(container)]
    return {**container, key: new}


def _mutated_body(content_type: str, body: bytes, leaf: tuple[Any, ...], new: str) -> bytes:
    from urllib.parse import parse_qsl, quote, urlencode

    if content_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
        kind, index = leaf
        pairs[index] = (new, pairs[index][1]) if kind == "key" else (pairs[index][0], new)
        # surrogatepass: a lone surrogate goes out as %ED%A0%80, percent-encoded invalid UTF-8
        return urlencode(pairs, quote_via=quote, errors="surrogatepass").encode()
    return json.dumps(_replaced(json.loads(body), leaf, new)).encode()  # ensure_ascii: \ud800 escapes


def _leaves(content_type: str, body: bytes) -> list[tuple[Any, ...]]:
    from urllib.parse import parse_qsl

    if content_type == "application/x-www-form-urlencoded":
        count = len(parse_qsl(body.decode(), keep_blank_values=True))
        return [(kind, index) for index in range(count) for kind in ("key", "value")]
    return _json_leaves(json.loads(body))


def _stored_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (key, *_stored_strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _stored_strings(item)]
    return []


def _table_state(dynamodb: Any, sqs: Any, stack: Any) -> tuple[list[Any], str]:
    items = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    depth = sqs.get_queue_attributes(
        QueueUrl=stack.queues["ProcessingQueue"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    return items, depth


def _payload_names() -> list[str]:
    from switchboard_ops.local.samples import payload_names

    return payload_names()


@pytest.mark.parametrize("sample_name", _payload_names())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=field_values)
def test_signed_requests_with_any_field_never_get_a_5xx(
    stack, dynamodb, sqs, lambda_context, sample_name, data, value
):
    # Given a sample webhook with one field (or key) replaced, then signed as its provider would sign it
    import time

    from switchboard_ops.local.samples import load_sample
    from switchboard_ops.local.signing import signed_headers

    sample = load_sample(sample_name)
    now = time.time()
    url, _, body = sample.signed("http://127.0.0.1:3000", now=now)
    leaf = data.draw(st.sampled_from(_leaves(sample.content_type, body)), label="field")
    body = _mutated_body(sample.content_type, body, leaf, value)
    headers = signed_headers(sample.route, url, body, sample.content_type, now=now, extra=sample.headers)
    before = _table_state(dynamodb, sqs, stack)

    # When it reaches the handler
    response = ingest.handler(http_api_event(url, body, headers), lambda_context)

    # Then never a 5xx; a 4xx stores nothing; whatever is stored is valid UTF-8, as DynamoDB requires
    assert response["statusCode"] < 500, response
    items, depth = _table_state(dynamodb, sqs, stack)
    if response["statusCode"] >= 400:
        assert (items, depth) == before
    for text in _stored_strings(items):
        text.encode("utf-8")  # strict: moto stores what DynamoDB would refuse
