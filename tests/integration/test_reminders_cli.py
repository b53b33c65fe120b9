"""`switchboard reminders` against moto: list / get / cancel, the rollout flag in its SSM parameter, and
the kill switch (pause --cancel-pending, resume) with its audit item and alert."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from typing import Any

import pytest
from test_reminder_records import NOW, PHONE, START, mark_sent, reminder, stored_version  # same directory

from switchboard.dal.address_keys import AddressKeys
from switchboard.dal.job_records import JobRecords
from switchboard.dal.recipients import Recipients
from switchboard.dal.reminders import AUDIT_PK, ReminderRecords
from switchboard.dal.rollout_flag import RolloutFlagStore
from switchboard.services.reminders.rollout import Rollout
from switchboard.services.reminders.service import ReminderService
from switchboard_ops.cli import reminders as reminders_cli
from switchboard_ops.cli.main import main
from switchboard_ops.cli.target import Target
from switchboard_ops.local.sqs_events import receive_batch

PARAMETER = "RemindersRolloutParameter"


@pytest.fixture
def table(stack) -> str:
    return stack.tables["EventsTable"]


@pytest.fixture
def flag(stack) -> RolloutFlagStore:
    return RolloutFlagStore(stack.parameters[PARAMETER], max_age_seconds=0)


@pytest.fixture
def service(table, flag) -> ReminderService:
    records = JobRecords(table)
    return ReminderService(
        Recipients(table), ReminderRecords(table), records.is_suppressed, rollout=Rollout(flag.read)
    )


@pytest.fixture(autouse=True)
def cli_target(stack, monkeypatch) -> None:
    target = Target(
        name="local",
        region="us-east-1",
        table_name=stack.tables["EventsTable"],
        topics=dict(stack.topics),
        parameters=dict(stack.parameters),
    )
    monkeypatch.setattr(reminders_cli, "resolve", lambda args: target)


@pytest.fixture
def alerts(stack, sqs) -> Any:
    """An SQS queue subscribed to AlertsTopic: what the e-mail subscription would receive."""
    from switchboard.dal.aws import client

    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=stack.topics["AlertsTopic"], Protocol="sqs", Endpoint=arn)
    return lambda: [json.loads(m["Body"])["Subject"] for m in receive_batch(sqs, url)]


def run(capsys, *args: str) -> tuple[int, Any]:
    code = main(["reminders", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out or captured.err)


def book(table: str, service: ReminderService, event_id: str, version: int = 1, **changes: Any) -> None:
    service.process(stored_version(table, version, provider_message_id=event_id, **changes), now=NOW)


def test_list_shows_scheduled_reminders_in_the_due_window(table, service, capsys):
    # Given two bookings on different days
    book(table, service, "first")
    book(table, service, "later", start=START + timedelta(days=3))
    # When an operator lists the reminders due before the second day
    code, listed = run(capsys, "list", "--json", "--due-until", (START + timedelta(days=1)).isoformat())
    # Then only the first shows, scheduled, with its due time
    assert code == 0
    assert [(r["event_id"], r["state"]) for r in listed] == [("first", "scheduled")]
    assert listed[0]["due_at"].startswith("2026-12-01T14:45")


def test_an_empty_listing_says_so_and_a_listing_has_capital_headers(table, service, capsys):
    assert main(["reminders", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no reminders"

    book(table, service, "first")
    assert main(["reminders", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("CALENDAR")


def test_list_by_another_state_scans_for_it(table, service, capsys):
    book(table, service, "gone")
    book(table, service, "gone", 2, status="cancelled")
    code, listed = run(capsys, "list", "--state", "cancelled", "--json")
    assert (code, [(r["event_id"], r["reason"]) for r in listed]) == (0, [("gone", "event_cancelled")])


def test_a_due_window_with_another_state_is_refused_not_ignored(capsys):
    code, error = run(capsys, "list", "--json", "--state", "delivered", "--due-until", "2026-12-02T00:00:00Z")
    assert (code, error["error"]) == (2, "usage")
    assert "scheduled only" in error["detail"]


def test_a_due_window_that_ends_before_it_starts_is_refused(capsys):
    # DynamoDB refuses BETWEEN with its bounds reversed (moto answers nothing): a usage error, not a
    # "could not read the events table"
    code, error = run(
        capsys, "list", "--json", "--due-from", "2026-12-03T00:00:00Z", "--due-until", "2026-12-02T00:00:00Z"
    )
    assert (code, error["error"]) == (2, "usage")
    assert "--due-until" in error["detail"]


def test_a_window_from_the_epoch_is_a_window(table, service, capsys):
    book(table, service, "first")
    code, error = run(capsys, "list", "--json", "--state", "cancelled", "--due-from", "1970-01-01T00:00:00Z")
    assert (code, error["error"]) == (2, "usage")


def test_get_prints_the_reminder_and_exits_1_when_there_is_none(table, service, capsys):
    book(table, service, "bk-1")
    code, found = run(capsys, "get", "--calendar", "calcom", "--event-id", "bk-1")
    assert (code, found["state"], found["version"]) == (0, "scheduled", f"{1:020d}")
    code, error = run(capsys, "get", "--calendar", "calcom", "--event-id", "nope")
    assert (code, error["error"]) == (1, "not_found")


def test_cancel_cancels_a_scheduled_reminder_with_reason_operator(table, service, capsys):
    book(table, service, "bk-1")
    code, _ = run(capsys, "cancel", "--calendar", "calcom", "--event-id", "bk-1")
    stored = reminder(table)
    assert (code, stored["state"], stored["reason"]) == (0, "cancelled", "operator")
    assert "due_shard" not in stored  # out of the dispatcher's index


def test_a_sent_reminder_cannot_be_cancelled(table, service, dynamodb, capsys):
    # Given a reminder the sender already sent
    book(table, service, "bk-1")
    mark_sent(dynamodb, table)
    # When an operator cancels it, Then a clear error, and it stays sent
    code, error = run(capsys, "cancel", "--calendar", "calcom", "--event-id", "bk-1")
    assert (code, error["error"]) == (1, "not_cancellable")
    assert "sent" in error["detail"]
    assert reminder(table)["state"] == "sent"


def test_pause_with_cancel_pending_cancels_every_scheduled_reminder_records_and_alerts(
    table, service, flag, alerts, capsys
):
    # Given two scheduled reminders
    book(table, service, "a")
    book(table, service, "b")
    # When an operator pulls the kill switch
    code, result = run(capsys, "pause", "--cancel-pending")
    # Then both are cancelled with reason paused, the flag says paused, an audit item and an alert exist
    assert (code, result["cancelled"]) == (0, 2)
    assert {(reminder(table, e)["state"], reminder(table, e)["reason"]) for e in "ab"} == {
        ("cancelled", "paused")
    }
    assert flag.read().paused is True
    assert alerts() == ["Switchboard reminders paused"]
    audit, _ = ReminderRecords(table).call(
        "query", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": AUDIT_PK}}
    )
    assert audit is not None  # None: a condition failed, which a query has not
    assert [item["action"]["S"] for item in audit["Items"]] == ["pause"]
    # And a booking arriving while paused is not scheduled
    book(table, service, "c")
    assert (reminder(table, "c")["state"], reminder(table, "c")["reason"]) == ("cancelled", "paused")


def test_resume_clears_the_pause_but_does_not_uncancel(table, service, flag, alerts, capsys):
    book(table, service, "a")
    run(capsys, "pause", "--cancel-pending")
    code, _ = run(capsys, "resume")
    assert code == 0 and flag.read().paused is False
    assert reminder(table, "a")["state"] == "cancelled"
    assert alerts() == ["Switchboard reminders paused", "Switchboard reminders resumed"]
    book(table, service, "new")
    assert reminder(table, "new")["state"] == "scheduled"


def test_rollout_to_internal_names_recipients_by_id_and_cancels_the_others(table, service, flag, capsys):
    # When an operator limits reminders to one internal number
    code, printed = run(capsys, "rollout", "--mode", "internal", "--internal", "+1 415 555 0199")
    # Then the flag holds that number's AddressKeys id, not the number
    assert code == 0
    assert printed["internal"] == [AddressKeys().of("+14155550199")]
    assert "4155550199" not in json.dumps(printed)
    # And a booking for anyone else is cancelled with reason rollout
    book(table, service, "bk-1")
    assert (reminder(table)["state"], reminder(table)["reason"]) == ("cancelled", "rollout")
    assert PHONE != "+14155550199"


def test_pause_and_resume_with_json_print_only_json_on_stdout(table, service, flag, capsys):
    from switchboard.observability import logger

    # Given the library's logger writing to stdout, as it does outside pytest (Lambda wants stdout)
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    original = handler.setStream(sys.stdout)
    try:
        # When an operator's script pauses and resumes with --json
        outputs = []
        for action in ("pause", "resume"):
            assert main(["reminders", action, "--json"]) == 0
            outputs.append(capsys.readouterr())
    finally:
        if original is not None:  # None: it already wrote to stdout
            handler.setStream(original)

    # Then stdout is the JSON result alone (the "reminders paused" log line came first: `| jq` failed)
    assert [json.loads(output.out)["action"] for output in outputs] == ["pause", "resume"]
    assert "reminders paused by an operator" in outputs[0].err
