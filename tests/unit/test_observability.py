"""Log masking: phone numbers and message content never leave the process in a log line."""

from __future__ import annotations

import io
import json
import logging
import uuid
from typing import Any

from aws_lambda_powertools import Logger

from switchboard.observability import MaskingFormatter, mask_text


def log_line(**extra: Any) -> dict[str, Any]:
    stream = io.StringIO()
    logger = Logger(
        service=f"mask-test-{uuid.uuid4().hex}",  # a fresh logger: one stream each
        logger_formatter=MaskingFormatter(),
        stream=stream,
        level=logging.DEBUG,
    )
    logger.info("texted +14155550123 about (415) 555-2671", **extra)
    return json.loads(stream.getvalue())


def test_numbers_in_the_message_are_masked_but_their_last_two_digits_stay():
    line = log_line()

    assert line["message"] == "texted ***23 about ***71"


def test_content_keys_are_masked_whatever_their_value():
    line = log_line(body="Yes, Tuesday works", sender="+14155550123", nested={"text": "hi", "count": 3})

    assert (line["body"], line["sender"]) == ("***", "***")
    assert line["nested"] == {"text": "***", "count": 3}


def test_numbers_in_other_fields_are_masked():
    line = log_line(detail="from whatsapp:+447700900123 to 415-555-9876")

    assert line["detail"] == "from whatsapp:***23 to ***76"


def test_powertools_own_fields_are_left_alone():
    line = log_line()

    assert "***" not in line["timestamp"]


def test_ids_and_short_digit_runs_are_not_mistaken_for_numbers():
    assert mask_text("SM7c1a2b3c4d5e6f708192 attempt 3 of 5, 2026-11-25") == (
        "SM7c1a2b3c4d5e6f708192 attempt 3 of 5, 2026-11-25"
    )


def test_email_addresses_are_masked_in_every_field_but_their_domain_stays():
    # Given a log line naming an address in its message, in an id, nested, and URL-encoded
    stream = io.StringIO()
    logger = Logger(
        service=f"mask-test-{uuid.uuid4().hex}", logger_formatter=MaskingFormatter(), stream=stream
    )
    logger.info(
        "reply from maya.chen@northwind-logistics.com",
        provider_message_id="reply_received:c1:maya.chen@northwind-logistics.com:2026",
        job={"lead": ["o'brien+tag@example.co.uk"]},
        url="https://x.test/?email=maya%40northwind-logistics.com",
    )

    # When it is written, Then no local part is left anywhere
    line = stream.getvalue()
    for local in ("maya.chen", "o'brien", "maya%40"):
        assert local not in line
    assert "***@northwind-logistics.com" in line


def test_text_without_an_address_is_left_alone():
    assert mask_text("job 42 for campaign b2e4c6a8 @ 10:00, user@ nothing") == (
        "job 42 for campaign b2e4c6a8 @ 10:00, user@ nothing"
    )
