"""Every file in events/ingest goes through IngestFunction, and stays in step with events/payloads."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from switchboard.services.ingest import default_service
from switchboard_ops.project import EVENTS, ROOT, load_event, load_handler

ingest = load_handler("ingest")
SAMPLES = sorted(path.stem for path in (EVENTS / "ingest").glob("*.json"))


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every line the functions' logger writes while the block runs, formatted (masked) as in Lambda."""
    from switchboard.observability import logger

    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(capture)  # the stdlib logger Powertools' Logger wraps
    logger.setLevel("DEBUG")
    try:
        yield stream
    finally:
        logger.setLevel("INFO")
        logging.getLogger(logger.name).removeHandler(capture)


def make_events_script():
    spec = importlib.util.spec_from_file_location("make_events", ROOT / "scripts" / "make_events.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_events_are_regenerated_from_their_payloads():
    # events/payloads is the one source; a stale generated event would test an old payload
    rendered = make_events_script().render_all()

    assert sorted(rendered) == [f"{name}.json" for name in SAMPLES]
    for name, text in rendered.items():
        assert (EVENTS / "ingest" / name).read_text() == text, f"run scripts/make_events.py ({name} is stale)"


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_event_is_accepted_stored_and_enqueued(name, stack, lambda_context, monkeypatch):
    # Given a sample event and a clock at the moment it was signed
    monkeypatch.setattr(default_service(), "clock", lambda: make_events_script().EVENTS_NOW)

    # When IngestFunction handles it
    response = ingest.handler(load_event(f"ingest/{name}"), lambda_context)

    # Then it is stored and enqueued (or explicitly ignored, never dropped silently)
    assert response["statusCode"] == 200, response["body"]
    result = json.loads(response["body"])
    assert result["outcome"] in {"stored", "ignored"}
    assert result["outcome"] == "ignored" or result["enqueued"] is True


def test_no_phone_number_or_message_text_reaches_the_logs(stack, lambda_context):
    # Given an inbound SMS with a known number and text, and the function's log output captured
    with captured_logs() as stream:
        # When it is ingested, then delivered again (the duplicate path logs too)
        ingest.handler(load_event("ingest/twilio_inbound_sms"), lambda_context)
        ingest.handler(load_event("ingest/twilio_inbound_sms"), lambda_context)

    # Then neither number nor the body appears anywhere in the output
    logs = stream.getvalue()
    assert "SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8" in logs  # the logs were captured at all
    for secret in ("+14155550123", "4155550123", "Tuesday at 3pm", "+14155559876"):
        assert secret not in logs


_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# Sample addresses, not "<...@mail.gmail.com>" Message-IDs: those are ids, not anyone's address.
_SAMPLE_ADDRESS = re.compile(r"(?<![<\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+(?!>)")


def _without_email_id(event: dict) -> dict:
    """The Instantly sample as a reply without email_id: its id is then derived from the lead's e-mail."""
    body = json.loads(event["body"])
    body.pop("email_id", None)
    return {**event, "body": json.dumps(body)}


@pytest.mark.parametrize("name", SAMPLES)
def test_no_email_address_reaches_any_log_line_or_key_of_ingest_and_worker(
    name, stack, sqs, dynamodb, lambda_context, monkeypatch
):
    # Given a sample event (Instantly's also without email_id), and every log line captured
    from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event

    monkeypatch.setattr(default_service(), "clock", lambda: make_events_script().EVENTS_NOW)
    event = load_event(f"ingest/{name}")
    events = [event, _without_email_id(event)] if name.startswith("instantly") else [event]
    addresses = set(
        _SAMPLE_ADDRESS.findall(
            json.dumps([json.loads(e["body"]) for e in events if e["body"].startswith("{")])
        )
    )
    with captured_logs() as stream:
        # When it is ingested, delivered again, and its jobs are processed by the worker
        for each in events + events:
            assert ingest.handler(each, lambda_context)["statusCode"] == 200
        url = stack.queues["ProcessingQueue"]
        while messages := receive_batch(sqs, url):
            response = load_handler("worker").handler(
                sqs_event(messages, stack.queue_arns["ProcessingQueue"]), lambda_context
            )
            delete_succeeded(sqs, url, messages, response)

    # Then no address appears in any line (only masked ones, "***@domain")
    logs = stream.getvalue()
    assert "event stored" in logs and "job processed" in logs  # the logs were captured at all
    leaked = [found for found in _ADDRESS.findall(logs) if not found.startswith("***@")]
    assert leaked == [], leaked
    # Event keys only: contact and suppression records are keyed on the address by design (see report)
    items = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    keys = [item["pk"]["S"] for item in items if item["pk"]["S"].startswith("EVT#")]
    for address in addresses:
        assert address not in logs
        assert not [key for key in keys if address in key], "an e-mail address in a table key"
