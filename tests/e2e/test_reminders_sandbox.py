"""Bookings made through the sandbox's `/sandbox/calendar` (signed like Cal.com would) on the local stack:
a booking shows in `switchboard reminders list`; its cancellation shows in `switchboard reminders get`."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard_ops.local.samples import PAYLOADS

pytestmark = pytest.mark.e2e
WITHIN = 60.0


def calcom_booking(trigger: str, uid: str, start: datetime, created: datetime) -> dict[str, Any]:
    """The Cal.com sample booking (events/payloads), as a new booking `uid` starting at `start`."""
    sample = json.loads(json.loads((PAYLOADS / "calcom_booking_created.json").read_text())["body"])
    sample["triggerEvent"] = trigger
    sample["createdAt"] = created.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    sample["payload"].update(
        uid=uid,
        startTime=start.isoformat().replace("+00:00", "Z"),
        endTime=(start + timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
        status="CANCELLED" if trigger == "BOOKING_CANCELLED" else "ACCEPTED",
    )
    return sample


def until(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WITHIN
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not {what} within {WITHIN} s")
        time.sleep(0.5)


def test_a_sandbox_booking_is_listed_and_its_cancellation_shows_in_get(live_stack):
    uid = f"e2e-{uuid.uuid4()}"
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    created = datetime.now(UTC)

    # When a developer books through the sandbox
    booked = live_stack.sandbox(
        "POST",
        "/sandbox/calendar",
        {"kind": "calcom", "event": calcom_booking("BOOKING_CREATED", uid, start, created)},
    )
    assert (booked["delivered"], booked["webhook_status"]) == (True, 200)

    # Then its reminder is listed as scheduled, 15 minutes before the start
    def listed() -> dict[str, Any] | None:
        rows = live_stack.cli_json("reminders", "list")
        return next((row for row in rows if row["event_id"] == uid), None)

    row = until(listed, "listed")
    assert row["state"] == "scheduled"
    assert row["due_at"].startswith((start - timedelta(minutes=15)).isoformat()[:16])

    # When the booking is cancelled through the sandbox
    cancel = calcom_booking("BOOKING_CANCELLED", uid, start, created + timedelta(seconds=5))
    assert live_stack.sandbox("POST", "/sandbox/calendar", {"kind": "calcom", "event": cancel})["delivered"]

    # Then `reminders get` shows it cancelled with the event's reason
    def cancelled() -> dict[str, Any] | None:
        found = live_stack.cli_json("reminders", "get", "--calendar", "calcom", "--event-id", uid)
        return found if found["state"] == "cancelled" else None

    assert until(cancelled, "cancelled")["reason"] == "event_cancelled"


def test_the_sandbox_refuses_an_unknown_calendar_kind(live_stack):
    import requests

    response = requests.post(
        f"{live_stack.sandbox_url}/sandbox/calendar", json={"kind": "google", "event": {"a": 1}}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
