"""Every file in events/ingest goes through IngestFunction, and stays in step with events/payloads."""

from __future__ import annotations

import importlib.util
import io
import json
import logging

import pytest

from switchboard.services.ingest import default_service
from switchboard_ops.project import EVENTS, ROOT, load_event, load_handler

ingest = load_handler("ingest")
SAMPLES = sorted(path.stem for path in (EVENTS / "ingest").glob("*.json"))


def make_events_script():
    spec = importlib.util.spec_from_file_location("make_events", ROOT / "scripts" / "make_events.py")
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
    from switchboard.observability import logger

    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    logger.addHandler(capture)
    logger.setLevel("DEBUG")
    try:
        # When it is ingested, then delivered again (the duplicate path logs too)
        ingest.handler(load_event("ingest/twilio_inbound_sms"), lambda_context)
        ingest.handler(load_event("ingest/twilio_inbound_sms"), lambda_context)
    finally:
        logger.setLevel("INFO")
        logger.removeHandler(capture)

    # Then neither number nor the body appears anywhere in the output
    logs = stream.getvalue()
    assert "SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8" in logs  # the logs were captured at all
    for secret in ("+14155550123", "4155550123", "Tuesday at 3pm", "+14155559876"):
        assert secret not in logs
