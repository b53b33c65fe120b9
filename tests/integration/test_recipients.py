"""Reminder recipients: stored under the number's AddressKeys id (never the number), read back, and set/get
through `switchboard recipients` against the events table."""

from __future__ import annotations

import json
from datetime import time

import pytest

from switchboard.dal.address_keys import AddressKeys
from switchboard.dal.recipients import Recipients, recipient_key
from switchboard.models.recipients import Recipient
from switchboard_ops.cli import recipients as recipients_cli
from switchboard_ops.cli.main import main
from switchboard_ops.cli.target import Target

PHONE = "+14155550123"


@pytest.fixture
def table(stack) -> Recipients:
    return Recipients(stack.tables["EventsTable"])


@pytest.fixture
def cli_target(stack, monkeypatch) -> None:
    target = Target(name="local", region="us-east-1", table_name=stack.tables["EventsTable"])
    monkeypatch.setattr(recipients_cli, "resolve", lambda args: target)


def test_a_recipient_is_keyed_by_a_digest_not_the_number(table, dynamodb, stack):
    # When a recipient is stored
    table.put(Recipient(phone=PHONE, time_zone="America/Los_Angeles"), now=1_795_593_600)
    # Then no key holds the number, and it reads back with the defaults
    [item] = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    assert "4155550123" not in item["pk"]["S"] + item["sk"]["S"]
    found = table.get(PHONE)
    assert found == Recipient(phone=PHONE, time_zone="America/Los_Angeles")
    assert (found.quiet_start, found.quiet_end, found.daily_limit, found.lead_minutes, found.enabled) == (
        time(21, 0),
        time(8, 0),
        5,
        15,
        True,
    )


def test_a_recipients_key_is_the_address_keys_id_of_its_number(stack, dynamodb):
    # Given the recipients table keyed with a configured contact key
    keys = AddressKeys(lambda: "a-configured-key")
    Recipients(stack.tables["EventsTable"], address_keys=keys).put(Recipient(phone=PHONE), now=1)
    # Then its key is the id contacts and suppressions use for the same number, under that key
    [item] = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    assert item["pk"]["S"] == recipient_key(keys.of(PHONE))["pk"] == f"RCP#{keys.of(PHONE)}"
    assert keys.of(PHONE) != AddressKeys().of(PHONE)


def test_a_recipient_learned_from_a_booking_never_overwrites_an_operators(table):
    table.put(Recipient(phone=PHONE, time_zone="Asia/Tokyo", zone_source="operator"), now=1)
    created = table.put_if_absent(Recipient(phone=PHONE, time_zone="UTC", zone_source="booking"), now=2)
    assert created is False
    assert table.get(PHONE).time_zone == "Asia/Tokyo"


def test_recipients_set_then_get_prints_the_stored_settings(cli_target, capsys):
    # When an operator sets a recipient's zone and limits with a loosely written number
    assert (
        main(
            [
                "recipients",
                "set",
                "--phone",
                "+1 (415) 555-0123",
                "--time-zone",
                "America/New_York",
                "--quiet-start",
                "22:00",
                "--daily-limit",
                "3",
                "--disable",
            ]
        )
        == 0
    )
    capsys.readouterr()
    # And changes only the lead later
    assert main(["recipients", "set", "--phone", PHONE, "--lead-minutes", "30"]) == 0
    capsys.readouterr()
    # Then get prints everything, the earlier settings kept
    assert main(["recipients", "get", "--phone", PHONE]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {
        "phone": PHONE,
        "time_zone": "America/New_York",
        "zone_source": "operator",
        "quiet_start": "22:00:00",
        "quiet_end": "08:00:00",
        "daily_limit": 3,
        "lead_minutes": 30,
        "enabled": False,
    }


def test_recipients_get_for_an_unknown_number_exits_1_with_a_json_error(cli_target, capsys):
    assert main(["recipients", "get", "--phone", PHONE]) == 1
    assert json.loads(capsys.readouterr().err)["error"] == "not_found"


@pytest.mark.parametrize(
    "args",
    [
        ["--phone", "not a number"],
        ["--phone", PHONE, "--time-zone", "Mars/Base"],
        ["--phone", PHONE, "--daily-limit", "-1"],
    ],
)
def test_recipients_set_refuses_bad_values_with_exit_2(cli_target, capsys, args):
    assert main(["recipients", "set", *args]) == 2
    assert json.loads(capsys.readouterr().err)["error"] == "invalid"
