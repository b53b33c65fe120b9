"""Parsing boundary: every string a provider sends can be stored as UTF-8 (DynamoDB refuses anything else)."""

from __future__ import annotations

import json

from switchboard.webhook_request import FORM, JSON, WebhookRequest


def request(body: bytes, content_type: str) -> WebhookRequest:
    return WebhookRequest(
        route="test",
        url="https://example.com/webhooks/test",
        body=body,
        headers={"content-type": content_type},
    )


def test_lone_surrogate_escapes_anywhere_in_json_become_replacement_characters():
    # Given a JSON body with lone surrogates in a value, a nested value, a list and a dict key
    body = b'{"text": "hi \\ud800", "raw": {"a\\udfff": ["\\udbff x"]}}'

    # When it is parsed
    parsed = request(body, JSON).json_object()

    # Then every string is valid UTF-8, with U+FFFD where the surrogate was
    assert parsed == {"text": "hi \ufffd", "raw": {"a\ufffd": ["\ufffd x"]}}
    json.dumps(parsed, ensure_ascii=False).encode("utf-8")


def test_surrogates_sent_as_raw_bytes_become_replacement_characters_too():
    # Given UTF-8's form of U+D800 and CESU-8's two-surrogate emoji: json.loads(bytes) decodes both
    body = '{"text": "a \ud800 b \ud83d\ude00"}'.encode("utf-8", "surrogatepass")

    # When it is parsed / Then each surrogate is U+FFFD, and the text encodes as UTF-8
    assert request(body, JSON).json_object() == {"text": "a \ufffd b \ufffd\ufffd"}


def test_a_valid_surrogate_pair_escape_is_kept_as_its_character():
    assert request(b'{"text": "\\ud83d\\ude00"}', JSON).json_object() == {"text": "\U0001f600"}


def test_invalid_percent_encoded_utf8_in_a_form_becomes_replacement_characters():
    # Given a form body whose key and value percent-encode bytes that are not UTF-8 (a surrogate, a lone 0xFF)
    body = b"Body=hi%ED%A0%80&Na%FFme=x"

    # When it is parsed, Then every string encodes as UTF-8
    form = request(body, FORM).form()
    for key, values in form.items():
        for text in (key, *values):
            text.encode("utf-8")
    assert form["Body"] == ["hi\ufffd\ufffd\ufffd"]
