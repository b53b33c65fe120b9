"""Reminder records against moto: a stored calendar event version -> its reminder (scheduled, moved,
re-worded, cancelled with a reason), conditional on the version; the daily limit; the due index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from model_factories import calendar_event

from switchboard.dal.address_keys import AddressKeys
from switchboard.dal.events_table import EventsTable, event_key
from switchboard.dal.items import from_item
from switchboard.dal.job_records import JobRecords
from switchboard.dal.recipients import Recipients
from switchboard.dal.reminder_sends import ReminderSends
from switchboard.dal.reminders import DUE_INDEX, ReminderRecords, due_shards
from switchboard.models import CalendarStatus
from switchboard.models.recipients import Recipient
from switchboard.models.reminders import ReminderState
from switchboard.services.reminders.service import ReminderService

NY = ZoneInfo("America/New_York")
PHONE = "+14155550123"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC).timestamp()
START = datetime(2026, 12, 1, 10, 0, tzinfo=NY)


@pytest.fixture
def table(stack) -> str:
    return stack.tables["EventsTable"]


@pytest.fixture
def service(table) -> ReminderService:
    return ReminderService(Recipients(table), ReminderRecords(table), JobRecords(table).is_suppressed)


def stored_version(table: str, version: int, **changes: Any) -> dict[str, Any]:
    """Store one version of a booking the way ingest does and return the stored record."""
    fields: dict[str, Any] = {
        "version": f"{version:020d}",
        "title": "Check-up",
        "location": "Room 2",
        "start": START,
        "attendee_phone": PHONE,
        "attendee_time_zone": "America/New_York",
    }
    event = calendar_event(**{**fields, **changes})
    events = EventsTable(table)
    events.store_if_new(event, received_at=NOW)
    key = event_key(event)
    found = events.get(key["pk"], key["sk"])
    assert found is not None
    return found


def reminder(table: str, event_id: str = "bk-1") -> dict[str, Any]:
    found = ReminderRecords(table).get("calcom", event_id)
    assert found is not None
    return found


def mark_sent(dynamodb: Any, table: str, event_id: str = "bk-1") -> None:
    """The sender's write, done by hand: the reminder is sent and out of the due index."""
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": f"EVT#calcom#{event_id}"}, "sk": {"S": "REMINDER"}},
        UpdateExpression="SET #s = :sent REMOVE due_shard",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":sent": {"S": "sent"}},
    )


def local_due(item: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(item["due_at"] / 1000, tz=UTC).astimezone(NY)


def test_a_booking_schedules_its_reminder_15_minutes_before_in_the_due_index(table, service, dynamodb):
    # When a booking's first version is processed
    annotations = service.process(stored_version(table, 1), now=NOW)

    # Then its reminder is scheduled at 09:45 local, with text, and findable through the due index
    item = reminder(table)
    assert annotations["reminder"] == "scheduled"
    assert (item["state"], local_due(item).strftime("%H:%M")) == ("scheduled", "09:45")
    assert "Check-up" in item["text"] and "10:00 AM EST" in item["text"]
    assert item["send_key"] == f"reminder:calcom:bk-1:{1:020d}"
    found = dynamodb.query(
        TableName=table,
        IndexName=DUE_INDEX,
        KeyConditionExpression="due_shard = :shard",
        ExpressionAttributeValues={":shard": {"S": item["due_shard"]}},
    )["Items"]
    assert [from_item(hit)["pk"] for hit in found] == ["EVT#calcom#bk-1"]


def test_moving_the_event_from_10_to_14_moves_the_reminder_from_0945_to_1345(table, service):
    service.process(stored_version(table, 1), now=NOW)
    service.process(stored_version(table, 2, start=START.replace(hour=14)), now=NOW)

    item = reminder(table)
    assert local_due(item).strftime("%H:%M") == "13:45"
    assert item["changes"] == ["rescheduled"] and "2:00 PM" in item["text"]
    assert item["send_key"].endswith(f"{2:020d}")  # a new version: the old send key can never be used


def test_renaming_regenerates_the_text_and_keeps_the_time(table, service):
    service.process(stored_version(table, 1), now=NOW)
    service.process(stored_version(table, 2, title="Cleaning", location="Room 9"), now=NOW)

    item = reminder(table)
    assert item["changes"] == ["text_regenerated"]
    assert "Cleaning" in item["text"] and "Room 9" in item["text"]
    assert local_due(item).strftime("%H:%M") == "09:45"


def test_a_cancelled_event_cancels_its_reminder_and_leaves_the_due_index(table, service):
    service.process(stored_version(table, 1), now=NOW)
    service.process(stored_version(table, 2, status=CalendarStatus.CANCELLED), now=NOW)

    item = reminder(table)
    assert (item["state"], item["reason"]) == ("cancelled", "event_cancelled")
    assert "due_shard" not in item and "due_at" not in item


def test_a_change_older_than_the_stored_version_is_ignored(table, service):
    # Given version 2 (cancelled) was processed first
    service.process(stored_version(table, 2, status=CalendarStatus.CANCELLED), now=NOW)
    # When the older version 1 arrives late
    result = service.process(stored_version(table, 1), now=NOW)
    # Then it changes nothing
    assert result == {"reminder": "stale"}
    assert (reminder(table)["state"], reminder(table)["version"]) == ("cancelled", f"{2:020d}")


def test_processing_the_same_version_again_changes_nothing(table, service):
    event = stored_version(table, 1)
    service.process(event, now=NOW)
    first = reminder(table)
    assert service.process(event, now=NOW + 60) == {"reminder": "already_planned"}
    assert reminder(table) == first


def test_an_event_without_a_phone_is_kept_with_the_reason(table, service):
    service.process(stored_version(table, 1, attendee_phone=None), now=NOW)
    item = reminder(table)
    assert (item["state"], item["reason"]) == ("cancelled", "no_phone")


def test_a_suppressed_number_is_never_scheduled(table, service, dynamodb):
    # Given the number opted out (the worker's suppression record)
    key = JobRecords(table).suppression_key("sms", PHONE)
    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}, "suppressed": {"BOOL": True}}
    )
    service.process(stored_version(table, 1), now=NOW)
    assert (reminder(table)["state"], reminder(table)["reason"]) == ("cancelled", "suppressed")


def test_a_disabled_recipient_gets_no_reminder(table, service):
    Recipients(table).put(Recipient(phone=PHONE, enabled=False), now=NOW)
    service.process(stored_version(table, 1), now=NOW)
    assert reminder(table)["reason"] == "recipient_disabled"


def test_quiet_hours_move_an_early_reminder_to_the_window_end(table, service):
    # Given quiet hours 22:00-08:00 and an event at 08:05 (ideal reminder 07:50)
    Recipients(table).put(Recipient(phone=PHONE, quiet_start=datetime(2026, 1, 1, 22).time()), now=NOW)
    service.process(stored_version(table, 1, start=START.replace(hour=8, minute=5)), now=NOW)
    assert local_due(reminder(table)).strftime("%H:%M") == "08:00"


def test_limit_5_with_10_events_schedules_5_and_cancels_the_rest_with_daily_limit(table, service):
    # When ten bookings for one recipient on one local day are processed
    for index in range(10):
        event = stored_version(
            table, 1, provider_message_id=f"bk-{index}", start=START + timedelta(minutes=20 * index)
        )
        service.process(event, now=NOW)

    # Then five are scheduled and five cancelled with the reason
    states = [
        (reminder(table, f"bk-{i}")["state"], reminder(table, f"bk-{i}").get("reason")) for i in range(10)
    ]
    assert states.count(("scheduled", None)) == 5
    assert states.count(("cancelled", "daily_limit")) == 5


def test_a_cancelled_event_frees_its_place_under_the_daily_limit(table, service):
    Recipients(table).put(Recipient(phone=PHONE, daily_limit=1), now=NOW)
    service.process(stored_version(table, 1, provider_message_id="first"), now=NOW)
    service.process(
        stored_version(table, 2, provider_message_id="first", status=CalendarStatus.CANCELLED), now=NOW
    )

    service.process(stored_version(table, 1, provider_message_id="second"), now=NOW)
    assert reminder(table, "second")["state"] == "scheduled"


def test_a_moved_event_frees_its_old_days_place(table, service):
    Recipients(table).put(Recipient(phone=PHONE, daily_limit=1), now=NOW)
    service.process(stored_version(table, 1, provider_message_id="a"), now=NOW)
    service.process(
        stored_version(table, 2, provider_message_id="a", start=START + timedelta(days=1)), now=NOW
    )

    service.process(stored_version(table, 1, provider_message_id="b"), now=NOW)
    assert (reminder(table, "a")["state"], reminder(table, "b")["state"]) == ("scheduled", "scheduled")


def test_a_calcom_reschedule_cancels_the_replaced_bookings_reminder(table, service):
    service.process(stored_version(table, 1, provider_message_id="old"), now=NOW)
    service.process(
        stored_version(table, 2, provider_message_id="new", replaces="old", start=START.replace(hour=14)),
        now=NOW,
    )

    assert (reminder(table, "old")["state"], reminder(table, "old")["reason"]) == ("cancelled", "rescheduled")
    assert reminder(table, "new")["state"] == "scheduled"


def test_a_sent_reminder_is_not_scheduled_again_by_a_rename(table, service, dynamodb):
    # Given the reminder of version 1 was sent (the sender's write, second half of issue 11)
    service.process(stored_version(table, 1), now=NOW)
    mark_sent(dynamodb, table)
    # When the event is renamed
    service.process(stored_version(table, 2, title="Renamed"), now=NOW)
    # Then it stays sent: a version is never sent twice for the same time
    assert reminder(table)["state"] == "sent" and "due_shard" not in reminder(table)


def test_a_rename_after_the_send_keeps_what_the_send_left_and_its_callback_still_lands(table, service):
    # Given version 1's reminder was sent, by the sender's own write (SM1 at NOW + 60 s)
    service.process(stored_version(table, 1), now=NOW)
    sent_key = reminder(table)["send_key"]
    sends = ReminderSends(table)
    sends.mark_sent(sent_key, "twilio", "SM1", NOW + 60)
    # When the event is renamed before the delivered callback arrives
    service.process(stored_version(table, 2, title="Renamed"), now=NOW + 90)
    renamed = reminder(table)
    # Then the record keeps the send: when, through whom, which message, which version and text were sent
    assert (renamed["state"], renamed["title"]) == ("sent", "Renamed")
    assert (renamed["sent_at"], renamed["provider_message_id"]) == (int((NOW + 60) * 1000), "SM1")
    assert renamed["send_key"] == sent_key and "Check-up" in renamed["text"]
    # And the callback of the version that was sent still moves it to delivered
    assert sends.record_delivery(
        renamed["pk"], f"{1:020d}", ReminderState.DELIVERED, NOW + 120, delivered_at=1
    )
    assert reminder(table)["state"] == "delivered"


def test_every_due_shard_is_a_partition_of_the_index():
    assert len(set(due_shards())) == 8


def test_a_recipients_day_counter_is_keyed_by_the_address_keys_id_not_the_number(table, dynamodb):
    # Given the worker's one AddressKeys, with a configured key, passed to the recipients
    keys = AddressKeys(lambda: "a-configured-key")
    service = ReminderService(
        Recipients(table, address_keys=keys), ReminderRecords(table), JobRecords(table).is_suppressed
    )
    # When a booking is scheduled
    service.process(stored_version(table, 1), now=NOW)
    # Then the reminder and its day counter carry the AddressKeys id, and no key holds the number
    items = [from_item(i) for i in dynamodb.scan(TableName=table)["Items"]]
    [day] = [i for i in items if i["sk"].startswith("DAY#")]
    assert day["pk"] == f"RCP#{keys.of(PHONE)}"
    assert reminder(table)["recipient"] == keys.of(PHONE)
    assert not any("4155550123" in i["pk"] + i["sk"] for i in items)


class CountingQueries:
    """The moto client, counting Query calls."""

    def __init__(self, client: Any) -> None:
        self.client, self.queries = client, 0

    def query(self, **request: Any) -> Any:
        self.queries += 1
        return self.client.query(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_a_due_window_that_ends_before_it_starts_is_empty_without_asking(table, service, dynamodb):
    # Given a scheduled reminder
    service.process(stored_version(table, 1), now=NOW)
    client = CountingQueries(dynamodb)
    records = ReminderRecords(table, dynamodb=client)
    [reminder] = records.scheduled()
    due, asked = int(reminder["due_at"]), client.queries
    # When the window around it is given reversed
    found = list(records.scheduled(due_from=due + 1, due_until=due - 1))
    # Then nothing is due, and no Query was sent (DynamoDB refuses BETWEEN with reversed bounds)
    assert found == [] and client.queries == asked
