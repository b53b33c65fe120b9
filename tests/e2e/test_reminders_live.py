"""A booking becomes a text at its reminder time, on the local stack: a Cal.com booking posted to
/webhooks/calcom -> the worker schedules its reminder -> the dispatcher (rate(1 minute), fired every real
second at --time-scale 60) queues it once due -> the sender sends it through the sandbox -> the sandbox's
status callback comes back through ingest -> the reminder is delivered.

Reminder times are instants on the functions' own (real) clock; the scaled stack clock only makes the
every-minute dispatcher fire every second, so the reminder goes out within about a second of its time."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard_ops.local.samples import load_sample

pytestmark = pytest.mark.e2e

DUE_IN = 8.0  # seconds from the post to the reminder's due time
WITHIN = 45.0


def noon_zone(now: datetime) -> str:
    """An IANA zone whose local time is about noon now: far from the default quiet hours (21:00-08:00)."""
    offset = 12 - now.hour  # Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3
    offset = (offset + 12) % 24 - 12
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def booking(start: datetime, uid: str, phone: str, zone: str) -> bytes:
    document = json.loads(load_sample("calcom_booking_created").body)
    payload = document["payload"]
    payload.update(
        uid=uid,
        startTime=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        endTime=(start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        smsReminderNumber=phone,
        title=f"Check-up {uid[:8]}",
    )
    for attendee in payload["attendees"]:
        attendee["timeZone"] = zone
    document["createdAt"] = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json.dumps(document).encode()


def reminder_record(stack: Any, uid: str) -> dict[str, Any]:
    import boto3

    from switchboard.dal.items import from_item

    state = stack.state
    dynamodb = boto3.Session(
        region_name=state["region"], aws_access_key_id="testing", aws_secret_access_key="testing"
    ).client("dynamodb", endpoint_url=state["aws_endpoint_url"])
    item = dynamodb.get_item(
        TableName=state["table_name"], Key={"pk": {"S": f"EVT#calcom#{uid}"}, "sk": {"S": "REMINDER"}}
    ).get("Item")
    return from_item(item or {})


def poll(fetch: Any, done: Any, what: str) -> Any:
    deadline = time.monotonic() + WITHIN
    while True:
        value = fetch()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what}: not after {WITHIN} s (last: {value})"
        time.sleep(0.3)


def test_a_booking_is_texted_at_its_reminder_time_and_delivered(stack_launcher, state_dir):
    # Given a stack whose every-minute dispatcher fires every second
    stack = stack_launcher(state_dir, "--time-scale", "60", "--schedules", "on")
    now = datetime.now(tz=UTC)
    uid, phone = str(uuid.uuid4()), f"+1415555{uuid.uuid4().int % 10_000:04d}"
    # the reminder is due about DUE_IN seconds from now (Cal.com times are whole seconds)
    start = (now + timedelta(minutes=15, seconds=DUE_IN)).replace(microsecond=0)

    # When the booking is posted to /webhooks/calcom
    body = booking(start, uid, phone, noon_zone(now))
    sample = load_sample("calcom_booking_created")
    assert stack.post(replace(sample, body=body), body=body, signed_body=body).status_code == 200

    # Then its reminder is scheduled for start - 15 minutes
    scheduled = poll(lambda: reminder_record(stack, uid), lambda r: r.get("state"), "reminder planned")
    due_ms = scheduled["due_at"]
    assert due_ms == int((start - timedelta(minutes=15)).timestamp() * 1000)

    # And the sandbox receives its text once, not before that time
    def texts() -> list[dict[str, Any]]:
        messages = stack.sandbox("GET", "/sandbox/messages?provider=twilio")["messages"]
        return [m for m in messages if m["direction"].lower() == "outbound" and phone in m["to"]]

    (text,) = poll(texts, lambda found: len(found) >= 1, "reminder text at the sandbox")
    assert text["created_at"] * 1000 >= due_ms
    assert uid[:8] in text["body"]

    # And the sandbox's delivered callback marks the reminder delivered
    delivered = poll(
        lambda: reminder_record(stack, uid), lambda r: r.get("state") == "delivered", "reminder delivered"
    )
    assert delivered["provider_message_id"] == text["id"] and delivered["delivered_at"] >= due_ms
    assert len(texts()) == 1

    # And `switchboard metrics reminders --phone` counts it on its (UTC) day, computed: no digest ran
    day = datetime.fromtimestamp(due_ms / 1000, tz=UTC).date().isoformat()
    [row] = stack.cli_json("metrics", "reminders", "--phone", phone, "--date", day)["rows"]
    assert (row["day"], row["source"]) == (day, "computed, not stored")
    assert (row["sent"], row["delivered"], row["delivery_rate"]) == (1, 1, 100.0)
