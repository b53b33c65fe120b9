"""`switchboard metrics variants` against moto: reminders written, sent, delivered, rated and opted out
through the real dal, compared per A/B arm."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from switchboard.dal.consents import Consents
from switchboard.dal.reminder_ratings import ReminderRatings
from switchboard.dal.reminder_sends import ReminderSends
from switchboard.dal.reminders import ReminderRecords
from switchboard.models.plan import Consent, ConsentChange
from switchboard.models.reminders import ReminderPlan, ReminderState
from switchboard_ops.cli import metrics as metrics_cli
from switchboard_ops.cli.main import main
from switchboard_ops.cli.target import Target

NOW = 1_796_137_200  # 2026-12-01T15:00:00Z
LOYAL, LEAVING = "+14155550101", "+14155550102"


@pytest.fixture(autouse=True)
def cli_target(stack, monkeypatch) -> None:
    target = Target(name="local", region="us-east-1", table_name=stack.tables["EventsTable"])
    monkeypatch.setattr(metrics_cli, "resolve", lambda args: target)


def planned(table: str, event_id: str, phone: str, text: str, lead: int) -> None:
    plan = ReminderPlan(
        calendar="calcom",
        event_id=event_id,
        version="00000000000000000001",
        state=ReminderState.SCHEDULED,
        due_at=datetime.fromtimestamp(NOW + 3600, tz=UTC),
        phone=phone,
        recipient=f"id-{phone}",
        variant={"text": text, "assigned_text": text, "lead": lead},
    )
    assert ReminderRecords(table).write(plan, seen=None, now=NOW)[0]


def sent(table: str, event_id: str, outcome: ReminderState | None, rating: int | None = None) -> None:
    sends = ReminderSends(table)
    assert sends.mark_sent(f"reminder:calcom:{event_id}:00000000000000000001", "twilio", f"SM{event_id}", NOW)
    if outcome is not None:
        assert sends.record_delivery(f"EVT#calcom#{event_id}", "00000000000000000001", outcome, NOW + 5)
    if rating is not None:
        assert ReminderRatings(table).record_rating(
            f"EVT#calcom#{event_id}", rating, message_pk="m", at_ms=(NOW + 60) * 1000
        )


def test_each_arm_gets_its_sent_delivered_failed_opt_outs_and_average_rating(stack, capsys):
    # Given template/15 reminders (one delivered and rated 4, one failed), an llm/30 reminder delivered,
    # rated 2 and followed by its number's opt-out, and a template/30 reminder not yet sent
    table = stack.tables["EventsTable"]
    planned(table, "a", LOYAL, "template", 15)
    planned(table, "b", LOYAL, "template", 15)
    planned(table, "c", LEAVING, "llm", 30)
    planned(table, "d", LOYAL, "template", 30)
    sent(table, "a", ReminderState.DELIVERED, rating=4)
    sent(table, "b", ReminderState.FAILED)
    sent(table, "c", ReminderState.DELIVERED, rating=2)
    opt_out_at = datetime.fromtimestamp(NOW + 120, tz=UTC).isoformat()
    assert Consents(table).record_consent(ConsentChange("sms", LEAVING, Consent.OPT_OUT, opt_out_at, "m2"))

    # When the operator compares the variants
    assert main(["metrics", "variants", "--json"]) == 0
    arms = {(row["dimension"], row["arm"]): row for row in json.loads(capsys.readouterr().out)["arms"]}

    # Then every arm has its own numbers
    def numbers(row: dict[str, Any]) -> tuple[Any, ...]:
        keys = ("reminders", "sent", "delivered", "failed", "opt_outs", "average_rating")
        return tuple(row[key] for key in keys)

    assert numbers(arms[("text", "template")]) == (3, 2, 1, 1, 0, 4.0)
    assert numbers(arms[("text", "llm")]) == (1, 1, 1, 0, 1, 2.0)
    assert numbers(arms[("lead", "15")]) == (2, 2, 1, 1, 0, 4.0)
    assert numbers(arms[("lead", "30")]) == (2, 1, 1, 0, 1, 2.0)


def test_an_opt_out_before_the_reminder_was_sent_is_not_counted(stack, capsys):
    # Given a number that opted out before its reminder was sent
    table = stack.tables["EventsTable"]
    planned(table, "e", LEAVING, "template", 5)
    before = datetime.fromtimestamp(NOW - 60, tz=UTC).isoformat()
    assert Consents(table).record_consent(ConsentChange("sms", LEAVING, Consent.OPT_OUT, before, "m3"))
    sent(table, "e", None)

    # When compared, then its arm has no opt-out
    assert main(["metrics", "variants", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["arms"]
    assert [row["opt_outs"] for row in rows] == [0, 0]


def test_the_text_output_lists_each_arm(stack, capsys):
    planned(stack.tables["EventsTable"], "f", LOYAL, "template", 60)
    assert main(["metrics", "variants"]) == 0
    out = capsys.readouterr().out
    assert "text template" in out and "lead 60" in out
