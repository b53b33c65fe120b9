"""The reminder numbers against moto: reminders written, sent, delivered and opted out through the real
dal; ReconcileFunction's daily digest rolls the day up and stores it; `switchboard metrics reminders`
reads it back (one recipient by --phone), or computes a day not rolled up yet."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard.dal.address_keys import AddressKeys
from switchboard.dal.ai_usage import usage_item
from switchboard.dal.aws import client
from switchboard.dal.consents import Consents
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.reminder_sends import ReminderSends
from switchboard.dal.reminders import ReminderRecords
from switchboard.models.ai_usage import AiCall
from switchboard.models.plan import Consent, ConsentChange
from switchboard.models.reminders import ReminderPlan, ReminderState
from switchboard_ops.cli import metrics as metrics_cli
from switchboard_ops.cli.main import main
from switchboard_ops.cli.target import Target
from switchboard_ops.project import load_event

DAY = "2026-11-25"  # events/reconcile/daily_digest.json's date
NOON = datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp()
VERSION = "00000000000000000001"
ANA, BEN = "+14155550101", "+14155550102"


@pytest.fixture
def cli_target(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    target = Target(name="local", region="us-east-1", table_name=stack.tables["EventsTable"])
    monkeypatch.setattr(metrics_cli, "resolve", lambda args: target)


def rid(phone: str) -> str:
    return AddressKeys().of(phone)


def planned(table: str, event_id: str, phone: str, *, due: float, now: float, **fields: Any) -> None:
    plan = ReminderPlan(
        calendar="calcom",
        event_id=event_id,
        version=VERSION,
        state=fields.pop("state", ReminderState.SCHEDULED),
        due_at=datetime.fromtimestamp(due, tz=UTC) if due else None,
        phone=phone,
        recipient=rid(phone),
        **fields,
    )
    assert ReminderRecords(table).write(plan, seen=None, now=now)[0]


def sent(table: str, event_id: str, at: float, outcome: ReminderState) -> None:
    sends = ReminderSends(table)
    assert sends.mark_sent(f"reminder:calcom:{event_id}:{VERSION}", "twilio", f"SM{event_id}", at) is not None
    moved = {"delivered_at": int((at + 4) * 1000)} if outcome is ReminderState.DELIVERED else {}
    assert sends.record_delivery(f"EVT#calcom#{event_id}", VERSION, outcome, at + 4, **moved)


def llm_call(table: str, event_id: str, cost: float, at: float) -> None:
    call = AiCall("reminder.text", "openai", "gpt-4o-mini", 120, 40, 700, cost, True, "ok")
    item = usage_item(call, job_pk=f"EVT#calcom#{event_id}", index=0, now=at)
    client("dynamodb").put_item(TableName=table, Item=to_attribute_values(item))


def the_day(stack: Any) -> None:
    """Ana: an llm reminder (with its model call) delivered, then her opt-out; a reminder that failed; one
    cancelled by her daily limit. Ben: one delivered, moved out of quiet hours. And one due the next day."""
    table = stack.tables["EventsTable"]
    planned_at = NOON - 86400
    variant = {"text": "llm", "assigned_text": "llm", "lead": 15}
    planned(table, "a1", ANA, due=NOON, now=planned_at, variant=variant)
    planned(table, "a2", ANA, due=NOON + 600, now=planned_at)
    planned(table, "a3", ANA, due=0, now=NOON, state=ReminderState.CANCELLED, reason="daily_limit")
    planned(table, "b1", BEN, due=NOON + 60, now=planned_at, moved_by_quiet_hours=True)
    planned(table, "b2", BEN, due=NOON + 86400, now=planned_at)
    llm_call(table, "a1", 0.0004, NOON - 600)  # the call that wrote a1's text, the same day
    sent(table, "a1", NOON, ReminderState.DELIVERED)
    sent(table, "a2", NOON + 600, ReminderState.FAILED)
    sent(table, "b1", NOON + 60, ReminderState.DELIVERED)
    opted_out = datetime.fromtimestamp(NOON + 900, tz=UTC).isoformat()
    assert Consents(table).record_consent(ConsentChange("sms", ANA, Consent.OPT_OUT, opted_out, "m1"))


def stored(stack: Any, pk: str) -> list[dict[str, Any]]:
    response = client("dynamodb").query(
        TableName=stack.tables["EventsTable"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :stats)",
        ExpressionAttributeValues=to_attribute_values(
            {":pk": pk, ":stats": "STATS#" if "RCP#" in pk else "DAY#"}
        ),
    )
    return [from_item(item) for item in response["Items"]]


def test_the_daily_digest_stores_each_recipients_numbers_and_the_days(stack, reconcile, lambda_context):
    # Given the day's reminders
    the_day(stack)

    # When ReconcileFunction runs the daily digest for that day
    result = reconcile.handler(load_event("reconcile/daily_digest"), lambda_context)

    # Then Ana's and Ben's rows are stored in their partitions (no number in any key)
    [ana] = stored(stack, f"RCP#{rid(ANA)}")
    assert ana["sk"] == f"STATS#{DAY}" and ANA not in json.dumps(ana)
    assert (ana["sent"], ana["delivered"], ana["failed"], ana["cancelled"]) == (2, 1, 1, {"daily_limit": 1})
    assert (ana["delivery_rate"], ana["opt_outs"], ana["opt_out_rate"], ana["daily_limit_rate"]) == (
        50.0,
        1,
        50.0,
        33.33,
    )
    assert (ana["texts"], ana["llm_calls"], ana["llm_cost_usd"]) == ({"template": 1, "llm": 1}, 1, 0.0004)
    [ben] = stored(stack, f"RCP#{rid(BEN)}")
    assert (ben["reminders"], ben["quiet_hours_rate"], ben["average_delivery_seconds"]) == (1, 100.0, 4.0)
    # And the day's row, which the digest's reminder section shows (no longer null locally)
    [day] = stored(stack, "STATS#reminders")
    assert (day["sk"], day["recipients"], day["reminders"], day["sent"], day["delivered"]) == (
        f"DAY#{DAY}",
        2,
        4,
        3,
        2,
    )
    assert day["expires_at"] > NOON + 399 * 86400  # kept 400 days
    assert result["reminders"]["source"] == "stored"
    assert (result["reminders"]["delivery_rate"], result["reminders"]["opt_out_rate"]) == (66.67, 33.33)


def test_a_second_run_of_the_digest_replaces_the_days_items_instead_of_adding(
    stack, reconcile, lambda_context
):
    # Given the day already rolled up once
    the_day(stack)
    reconcile.handler(load_event("reconcile/daily_digest"), lambda_context)
    first = stored(stack, f"RCP#{rid(ANA)}") + stored(stack, "STATS#reminders")

    # When the digest runs again for the same day
    reconcile.handler(load_event("reconcile/daily_digest"), lambda_context)

    # Then the same items hold the same numbers (Put, not ADD)
    again = stored(stack, f"RCP#{rid(ANA)}") + stored(stack, "STATS#reminders")
    strip = ("rolled_up_at", "expires_at")
    assert [{k: v for k, v in i.items() if k not in strip} for i in again] == [
        {k: v for k, v in i.items() if k not in strip} for i in first
    ]
    assert (again[0]["sent"], again[1]["sent"]) == (2, 3)


def test_the_digest_emits_the_days_rates_as_metrics(stack, reconcile, lambda_context, capsys):
    the_day(stack)
    capsys.readouterr()

    reconcile.handler(load_event("reconcile/daily_digest"), lambda_context)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "ReminderDay" in line]
    emitted = {name: line[name] for line in lines for name in line if name.startswith("ReminderDay")}
    assert emitted["ReminderDayDeliveryRate"] == [66.67]
    assert emitted["ReminderDayOptOutRate"] == [33.33]


def test_metrics_reminders_phone_reads_one_recipients_stored_rows(
    stack, reconcile, lambda_context, cli_target, capsys
):
    # Given the day rolled up
    the_day(stack)
    reconcile.handler(load_event("reconcile/daily_digest"), lambda_context)
    capsys.readouterr()

    # When the operator asks for Ana's numbers of the two days up to it
    assert (
        main(["metrics", "reminders", "--phone", "+1 (415) 555-0101", "--date", DAY, "--days", "2", "--json"])
        == 0
    )

    # Then her stored row for the day (the day before: none of hers)
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(row["day"], row["source"], row["sent"], row["opt_outs"]) for row in rows] == [
        (DAY, "stored", 2, 1)
    ]


def test_metrics_reminders_computes_today_and_says_it_is_not_stored(stack, cli_target, capsys):
    # Given a reminder due and delivered today, never rolled up
    table = stack.tables["EventsTable"]
    now = datetime.now(UTC).timestamp()
    planned(table, "t1", BEN, due=now - 120, now=now - 3600)
    sent(table, "t1", now - 120, ReminderState.DELIVERED)

    # When the operator asks for Ben's numbers, then today's row is computed and marked so
    assert main(["metrics", "reminders", "--phone", BEN, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["rows"]
    assert (row["source"], row["delivered"]) == ("computed, not stored", 1)
    assert not stored(stack, f"RCP#{rid(BEN)}")  # reading stores nothing


def test_metrics_reminders_lists_the_stored_days_and_marks_an_older_day_without_a_rollup(
    stack, reconcile, lambda_context, cli_target, capsys
):
    the_day(stack)
    reconcile.handler(load_event("reconcile/daily_digest"), lambda_context)
    capsys.readouterr()

    assert main(["metrics", "reminders", "--date", DAY, "--days", "2"]) == 0

    out = capsys.readouterr().out
    before = (datetime.fromisoformat(DAY) - timedelta(days=1)).date().isoformat()
    assert f"{before}" in out and "not rolled up" in out
    assert f"{DAY}" in out and "stored" in out


@pytest.mark.parametrize(
    "args",
    [["--phone", "not-a-number"], ["--date", "2026-13-01"], ["--days", "0"], ["--days", "x"]],
)
def test_bad_input_to_metrics_reminders_is_a_clear_error_with_a_non_zero_exit(
    args, stack, cli_target, capsys
):
    try:
        code = main(["metrics", "reminders", *args])
    except SystemExit as exit_:  # argparse's own refusal
        code = int(exit_.code or 0)
    assert code != 0
    err = capsys.readouterr().err
    assert ("phone number" in err) or ("--date" in err) or ("--days" in err)
