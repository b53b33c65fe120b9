"""`switchboard local curl SAMPLE --body TEXT / --new-id`: a sample's text and id changed where they sit."""

from __future__ import annotations

import pytest

from switchboard.providers import ROUTES
from switchboard.webhook_request import WebhookRequest
from switchboard_ops.local.samples import load_sample, payload_names, with_changes


def parsed(sample):
    request = WebhookRequest(
        route=sample.route,
        url=sample.url("http://localhost"),
        body=sample.body,
        headers={**sample.headers, "content-type": sample.content_type},
    )
    return ROUTES[sample.route].parse(request, 0.0)


def test_a_twilio_body_is_replaced_under_a_new_message_id():
    sample = load_sample("twilio_inbound_sms")

    changed = with_changes(sample, body="Yes #fail3")

    before, after = parsed(sample), parsed(changed)
    assert after.body == "Yes #fail3"
    assert after.provider_message_id != before.provider_message_id
    assert len(after.provider_message_id) == len(before.provider_message_id)
    assert after.sender == before.sender
    assert b"Body=Yes+%23fail3" in changed.body


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in payload_names()
        if parsed(load_sample(n)) is not None and parsed(load_sample(n)).kind == "message"
    ],
)
def test_every_message_sample_takes_a_new_text(name):
    changed = parsed(with_changes(load_sample(name), body="Hello #fail"))

    assert changed.body == "Hello #fail"


def test_new_id_alone_keeps_the_text_and_gives_a_fresh_id_each_time():
    sample = load_sample("twilio_inbound_stop")

    first, second = parsed(with_changes(sample, new_id=True)), parsed(with_changes(sample, new_id=True))

    assert first.body == second.body == "STOP"
    assert (
        len({first.provider_message_id, second.provider_message_id, parsed(sample).provider_message_id}) == 3
    )


def test_no_change_is_the_sample_itself():
    sample = load_sample("twilio_inbound_sms")

    assert with_changes(sample) is sample


def test_a_status_callback_has_no_text_to_replace():
    with pytest.raises(ValueError, match="no message text"):
        with_changes(load_sample("twilio_status_delivered"), body="x")
