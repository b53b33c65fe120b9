"""Every payload under the API's body limit is storable (issue 9, item 2): a 255 KiB webhook of every
provider route, through IngestFunction and through reconciliation's store path, is stored as an item
under DynamoDB's 400 KB limit (measured by DynamoDB's own sizing rules, which moto does not enforce)
and its raw payload reads back exactly; only an oversized one costs an S3 call."""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from switchboard.dal import aws
from switchboard.dal.events_table import EventsTable
from switchboard.dal.item_size import DYNAMODB_ITEM_LIMIT, item_size
from switchboard.dal.items import from_item
from switchboard.dal.jobs_queue import JobsQueue
from switchboard.dal.raw_payloads import RAW_COMPRESSED, RAW_OBJECT, RAW_TEXT, RawPayloads
from switchboard.dal.reconcile_records import ReconcileRecords
from switchboard.models import Event, Message
from switchboard.providers import ROUTES
from switchboard.providers.listing import Pacing
from switchboard.services.reconcile import Reconciler
from switchboard.webhook_request import WebhookRequest
from switchboard_ops.cli import messages
from switchboard_ops.iam.calls import attributing
from switchboard_ops.local.apigw import http_api_event
from switchboard_ops.local.samples import Sample, load_sample, with_changes
from switchboard_ops.project import load_handler

ingest = load_handler("ingest")
API_URL = "https://api.example.com"
BODY_BYTES = 255 * 1024
# One sample per provider route: the route each provider's webhooks arrive on.
ROUTE_SAMPLES = {
    "twilio": "twilio_inbound_sms",
    "twilio/status": "twilio_status_delivered",
    "openphone": "openphone_message_received",
    "ghl": "ghl_inbound_sms",
    "unipile": "unipile_message_received",
    "smartlead": "smartlead_email_reply",
    "instantly": "instantly_reply_received",
}
MESSAGE_ROUTES = [route for route in ROUTE_SAMPLES if route != "twilio/status"]


def noise(length: int, seed: int = 9) -> str:
    """Text that compresses badly (random letters): the case only S3 can hold."""
    return "".join(random.Random(seed).choices(string.ascii_letters + string.digits, k=length))


def html_email(length: int) -> str:
    """A large HTML e-mail reply: repetitive markup that compresses well."""
    row = "<tr><td style='padding:4px;font-family:Arial'>Quoted line of the earlier thread</td></tr>"
    return ("<html><body><table>" + row * (length // len(row) + 1))[:length]


def sized(sample: Sample, size: int, text: Any = noise) -> Sample:
    """The sample under a new id with its message text grown (or, for a status callback, one extra
    form field added) until the body is `size` bytes (a byte or two under, when the text appears twice):
    ASCII text adds one byte per character."""
    if sample.route == "twilio/status":
        fields = parse_qsl(sample.body.decode(), keep_blank_values=True)
        padding = size - len(urlencode([*fields, ("ErrorMessage", "")]))
        changed = with_changes(sample, new_id=True)
        body = urlencode([*parse_qsl(changed.body.decode()), ("ErrorMessage", text(padding))]).encode()
        return Sample(
            sample.name, sample.route, sample.content_type, body, sample.headers, sample.path_suffix
        )
    # Some payloads carry the text more than once (an e-mail's text and HTML parts): grow each copy.
    small, large = (len(with_changes(sample, body=text(length)).body) for length in (1000, 2000))
    copies = (large - small) // 1000
    return with_changes(sample, body=text(1000 + (size - small) // copies))


def signed_event(sample: Sample) -> tuple[dict[str, Any], Sample]:
    """The API Gateway event of the sample signed now, and the sample as signed (GHL's body carries
    the signing time)."""
    url, headers, body = sample.signed(API_URL, now=time.time())
    as_signed = Sample(
        sample.name, sample.route, sample.content_type, body, sample.headers, sample.path_suffix
    )
    return http_api_event(url, body, headers), as_signed


def parsed(sample: Sample) -> Event:
    """The canonical event ingest makes of the sample (its raw payload is what must read back)."""
    request = WebhookRequest(
        route=sample.route,
        url=sample.url(API_URL),
        body=sample.body,
        headers={**sample.headers, "content-type": sample.content_type},
    )
    event = ROUTES[sample.route].parse(request, time.time())
    assert event is not None
    return event


def stored_items(dynamodb: Any, stack: Any) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]


class Calls:
    """Every AWS operation the process makes, by botocore's own event hook on the shared clients."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)


@pytest.fixture
def calls(stack: Any) -> Iterator[Calls]:
    recorded = Calls()
    for service in ("dynamodb", "sqs", "s3", "secretsmanager"):
        aws.client(service).meta.events.register("before-call.*.*", recorded)
    yield recorded


def accepted(sample: Sample, lambda_context: Any) -> dict[str, Any]:
    """IngestFunction's answer to the sample, signed now: asserted 200, with the body as signed."""
    event, as_signed = signed_event(sample)
    response = ingest.handler(event, lambda_context)
    assert response["statusCode"] == 200, response["body"]
    return {**json.loads(response["body"]), "signed": as_signed}


# --- through IngestFunction --------------------------------------------------------------------------


@pytest.mark.parametrize("route", list(ROUTE_SAMPLES))
def test_a_255_kib_webhook_is_stored_under_the_item_limit(route, stack, dynamodb, lambda_context):
    # Given a validly signed 255 KiB webhook on the route, its text incompressible
    sample = sized(load_sample(ROUTE_SAMPLES[route]), BODY_BYTES)
    assert BODY_BYTES - 4 <= len(sample.body) <= BODY_BYTES

    # When IngestFunction handles it
    result = accepted(sample, lambda_context)

    # Then it is stored once, as an item DynamoDB accepts
    assert result["outcome"] == "stored"
    [item] = stored_items(dynamodb, stack)
    assert item_size(item) < DYNAMODB_ITEM_LIMIT


@pytest.mark.parametrize("route", list(ROUTE_SAMPLES))
def test_a_255_kib_webhooks_raw_payload_reads_back_exactly(route, stack, dynamodb, lambda_context):
    # Given a 255 KiB webhook stored by IngestFunction
    sample = accepted(sized(load_sample(ROUTE_SAMPLES[route]), BODY_BYTES), lambda_context)["signed"]

    # When its raw payload is read back from the stored item (and the bucket it points to)
    [item] = stored_items(dynamodb, stack)
    raw = RawPayloads().read(from_item(item))

    # Then it is the payload as received
    assert raw == parsed(sample).raw


def test_an_oversized_raw_payload_goes_to_s3_under_a_key_without_personal_data(
    stack, dynamodb, lambda_context
):
    # Given a 255 KiB Instantly reply (an e-mail address in its key) whose text does not compress
    sample = sized(load_sample("instantly_reply_received"), BODY_BYTES)

    # When it is ingested
    event = parsed(accepted(sample, lambda_context)["signed"])

    # Then the item points to an S3 object named by a hash, holding the payload as JSON
    [item] = stored_items(dynamodb, stack)
    assert RAW_TEXT not in item and RAW_COMPRESSED not in item
    pointer = item[RAW_OBJECT]["S"]
    bucket, _, key = pointer.removeprefix("s3://").partition("/")
    assert bucket == stack.buckets["RawPayloadBucket"]
    sender = getattr(event, "sender", None) or ""  # a calendar booking has no sender
    assert "@" not in key and event.provider_message_id not in key and sender not in key
    stored = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert json.loads(stored) == event.raw


def test_a_large_compressible_webhook_stays_in_its_item_without_s3(stack, dynamodb, lambda_context, calls):
    # Given a 255 KiB SmartLead reply carrying an HTML e-mail (which compresses well)
    sample = sized(load_sample("smartlead_email_reply"), BODY_BYTES, text=html_email)

    # When it is ingested
    accepted(sample, lambda_context)

    # Then its raw payload is compressed into the item: still one PutItem and one SendMessage
    [item] = stored_items(dynamodb, stack)
    assert RAW_COMPRESSED in item and RAW_OBJECT not in item
    assert item_size(item) < DYNAMODB_ITEM_LIMIT
    assert [name for name in calls.names if name != "GetSecretValue"] == ["PutItem", "SendMessage", "Scan"]


def test_a_small_webhook_makes_no_s3_call(stack, lambda_context, calls):
    # Given a normal inbound SMS
    sample = with_changes(load_sample("twilio_inbound_sms"), new_id=True)

    # When it is ingested
    accepted(sample, lambda_context)

    # Then it costs exactly the two calls of the hot path, and its raw payload stays readable text
    assert [name for name in calls.names if name != "GetSecretValue"] == ["PutItem", "SendMessage"]


def test_an_oversized_webhook_pays_one_s3_put_before_its_item(stack, lambda_context, calls):
    # Given a 255 KiB Twilio SMS whose text does not compress
    sample = sized(load_sample("twilio_inbound_sms"), BODY_BYTES)

    # When it is ingested
    accepted(sample, lambda_context)

    # Then the payload is put first (a stored pointer never dangles), then the item, then the job
    assert [name for name in calls.names if name != "GetSecretValue"] == [
        "PutObject",
        "PutItem",
        "SendMessage",
    ]


def test_a_duplicate_oversized_webhook_is_answered_as_a_duplicate(stack, dynamodb, lambda_context):
    # Given an oversized webhook already stored
    sample = sized(load_sample("openphone_message_received"), BODY_BYTES)
    accepted(sample, lambda_context)

    # When the provider delivers it again
    result = accepted(sample, lambda_context)

    # Then it is recognised as the same event, stored once
    assert result["outcome"] == "duplicate"
    assert len(stored_items(dynamodb, stack)) == 1


# --- through reconciliation's store path ----------------------------------------------------------------


class Listed:
    """A provider's message list holding given messages: reconciliation's input, for providers whose
    list API the sandbox does not serve at this size (its Twilio caps a text at 1,600 characters)."""

    def __init__(self, name: str, messages: list[Message]) -> None:
        self.name, self.messages, self.pacing = name, messages, Pacing()

    def pages(self, start: Any, end: Any, cursor: Any) -> Iterator[tuple[list[Message], Any]]:
        yield self.messages, None

    def done_fraction(self, items: Any, cursor: Any, start: Any, end: Any) -> float | None:
        return None


@pytest.mark.parametrize("route", MESSAGE_ROUTES)
def test_reconciliation_stores_a_255_kib_message_under_the_item_limit(route, stack, dynamodb):
    # Given a provider's list holding a message as large as a 255 KiB webhook makes it
    message = parsed(sized(load_sample(ROUTE_SAMPLES[route]), BODY_BYTES))
    assert isinstance(message, Message)
    table = stack.tables["EventsTable"]
    reconciler = Reconciler(
        sources={message.provider: Listed(message.provider, [message])},
        records=ReconcileRecords(table, sleep=lambda seconds: None),
        store=EventsTable(table, raw_payloads=RawPayloads(stack.buckets["RawPayloadBucket"])),
        jobs=JobsQueue(stack.queues["ProcessingQueue"]),
    )

    # When reconciliation runs over it (ReconcileFunction's own code: its calls count in the IAM check)
    run = attributing("ReconcileFunction", reconciler.run)(message.provider, timedelta(hours=48))

    # Then the message is backfilled as an item DynamoDB accepts, its raw payload intact
    assert run["totals"]["new_messages"] == 1 and run["totals"]["errors"] == 0, run
    item = dynamodb.get_item(
        TableName=table,
        Key={"pk": {"S": f"EVT#{message.provider}#{message.provider_message_id}"}, "sk": {"S": "MESSAGE"}},
    )["Item"]
    assert item_size(item) < DYNAMODB_ITEM_LIMIT
    assert RawPayloads().read(from_item(item)) == message.raw


# --- readers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kept"), [(noise, RAW_OBJECT), (html_email, RAW_COMPRESSED)])
def test_messages_get_shows_the_original_raw_payload_wherever_it_is_kept(
    text, kept, stack, dynamodb, lambda_context
):
    # Given a 255 KiB OpenPhone message stored with its raw payload in S3 (or compressed in the item)
    sample = sized(load_sample("openphone_message_received"), BODY_BYTES, text=text)
    event = parsed(accepted(sample, lambda_context)["signed"])
    [item] = stored_items(dynamodb, stack)
    assert kept in item

    # When the operator CLI looks the message up
    table = EventsTable(stack.tables["EventsTable"], raw_payloads=RawPayloads(s3=aws.client("s3")))
    found = messages.lookup(table, "openphone", event.provider_message_id)

    # Then it shows the raw payload as received, as JSON text like any small message's
    assert found is not None
    assert json.loads(found["message"]["raw"]) == event.raw
    assert RAW_COMPRESSED not in found["message"]
