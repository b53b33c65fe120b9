"""Bad input gets a clear 4xx JSON error, a metric, and nothing stored — never a 5xx, never a trace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signed_fuzz import field_values, payload_names, signed_mutation

from switchboard.providers import ROUTES
from switchboard_ops.local.apigw import http_api_event
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
worker = load_handler("worker")
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


# --- correctly signed fuzz: every route's sample, one field at a time (tests/signed_fuzz.py) -------------
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


@pytest.mark.parametrize("sample_name", payload_names())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), value=field_values)
def test_signed_requests_with_any_field_never_get_a_5xx(
    stack, dynamodb, sqs, lambda_context, sample_name, data, value
):
    # Given a sample webhook with one field (or key) replaced, then signed as its provider would sign it
    event = signed_mutation(sample_name, data, value)
    before = _table_state(dynamodb, sqs, stack)

    # When it reaches the handler
    response = ingest.handler(event, lambda_context)

    # Then never a 5xx; a 4xx stores nothing; whatever is stored is valid UTF-8, as DynamoDB requires
    assert response["statusCode"] < 500, response
    items, depth = _table_state(dynamodb, sqs, stack)
    if response["statusCode"] >= 400:
        assert (items, depth) == before
    for text in _stored_strings(items):
        text.encode("utf-8")  # strict: moto stores what DynamoDB would refuse


# --- surrogates as raw bytes: json.loads(bytes) decodes UTF-8's form of U+D800-DFFF ("surrogatepass") ------
JSON_TEXT_SAMPLES = [
    "openphone_message_received",
    "ghl_inbound_sms",
    "unipile_message_received",
    "smartlead_email_reply",
    "instantly_reply_received",
]
ENCODED_SURROGATES = b"\xed\xa0\x80 and \xed\xa0\xbd\xed\xb8\x80"  # a lone one, and CESU-8's emoji


@pytest.mark.parametrize("sample_name", JSON_TEXT_SAMPLES)
def test_surrogates_encoded_as_raw_bytes_in_a_json_body_are_stored_and_processed(
    stack, dynamodb, sqs, lambda_context, sample_name
):
    import time

    from switchboard_ops.local.samples import load_sample, with_changes
    from switchboard_ops.local.signing import signed_headers
    from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event

    # Given a signed webhook whose text carries surrogates as raw UTF-8-style bytes (no \u escape): a
    # CESU-8 / "modified UTF-8" sender; they passed parsing as lone surrogates and the store raised (500)
    sample = with_changes(load_sample(sample_name), body="hi SENTINEL")
    now = time.time()
    url, _, body = sample.signed("http://127.0.0.1:3000", now=now)
    body = body.replace(b"SENTINEL", ENCODED_SURROGATES)
    headers = signed_headers(sample.route, url, body, sample.content_type, now=now, extra=sample.headers)

    # When ingest gets it (answered 200, not 500), and the worker takes its job
    response = ingest.handler(http_api_event(url, body, headers), lambda_context)
    assert response["statusCode"] == 200, response
    messages = receive_batch(sqs, stack.queues["ProcessingQueue"])
    processed = worker.handler(sqs_event(messages, stack.queue_arns["ProcessingQueue"]), lambda_context)
    delete_succeeded(sqs, stack.queues["ProcessingQueue"], messages, processed)

    # Then it is stored once, U+FFFD where each surrogate was, and processed without a retry
    items, _ = _table_state(dynamodb, sqs, stack)
    for text in _stored_strings(items):
        text.encode("utf-8")
    assert any("hi \ufffd and \ufffd\ufffd" in text for text in _stored_strings(items))
    assert len(messages) == 1 and processed["batchItemFailures"] == []
