"""The pluggable HTTP classifier: off by default; its answers mapped, its failures retryable."""

from __future__ import annotations

import pytest

from switchboard.providers.llm_classifier import ClassifierUnavailable, HttpClassifier
from switchboard.services.processing.classify import Intent
from switchboard.services.worker import _classifier


def test_the_rules_classifier_is_the_default():
    assert _classifier("").name == "rules"


def test_a_configured_url_selects_the_http_classifier():
    assert _classifier("https://classifier.internal/v1").name == "http"


def test_answers_map_to_intents_and_the_request_carries_text_and_key():
    seen = {}

    def post(url, payload, headers, timeout):
        seen.update(url=url, payload=payload, headers=headers)
        return {"intent": "Meeting Requested"}

    result = HttpClassifier("https://c/v1", api_key="k", post=post).classify("Tuesday?")

    assert (result.intent, result.sentiment, result.classifier) == (
        Intent.MEETING_REQUESTED,
        "positive",
        "http",
    )
    assert seen == {
        "url": "https://c/v1",
        "payload": {"text": "Tuesday?"},
        "headers": {"Authorization": "Bearer k"},
    }


@pytest.mark.parametrize("answer", [{"intent": "Ecstatic"}, {}, None, ["Interested"]])
def test_unknown_answers_raise_so_the_job_retries(answer):
    with pytest.raises(ClassifierUnavailable):
        HttpClassifier("https://c/v1", post=lambda *a: answer).classify("hi")


def test_transport_failures_raise_so_the_job_retries():
    def post(*args):
        raise ConnectionError("down")

    with pytest.raises(ClassifierUnavailable):
        HttpClassifier("https://c/v1", post=post).classify("hi")
