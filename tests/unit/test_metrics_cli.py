"""`switchboard metrics daily`: its arguments, and the digest's text as the CLI and the e-mail print it."""

from __future__ import annotations

import pytest

from switchboard.services.digest import render
from switchboard_ops.cli.main import build_parser


def test_metrics_daily_takes_a_date_and_json():
    args = build_parser().parse_args(["metrics", "daily", "--date", "2026-11-25", "--json"])

    assert (args.date, args.as_json) == ("2026-11-25", True)


def test_metrics_daily_defaults_to_yesterday():
    assert build_parser().parse_args(["metrics", "daily"]).date is None


def test_a_malformed_date_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["metrics", "daily", "--date", "25/11/2026"])

    assert exit_.value.code == 2
    assert "--date must be YYYY-MM-DD" in capsys.readouterr().err


def test_the_text_shows_every_section_and_marks_what_was_not_recorded():
    digest = {
        "date": "2026-11-25",
        "webhooks": {"stored_by_provider": {"twilio": {"message": 2}}, "duplicate_webhooks": None},
        "canary": {"success_rate": 75.0},
    }

    text = render(digest)

    assert "Switchboard, 2026-11-25 (UTC)" in text
    assert "  stored by provider: twilio message 2" in text
    assert "  duplicate webhooks: n/a" in text
    assert "CANARY" in text and "  success rate: 75.0" in text


@pytest.mark.parametrize("command", ["daily", "reminders"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_no_day_arithmetic_can_reach_is_a_usage_error(command, day, capsys):
    # Given a real calendar date at either end of what Python's dates hold (day - 1 or + 1 overflowed)
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["metrics", command, "--date", day])

    # Then it is refused as an argument, before any table read: exit 2 and one clear line
    assert exit_.value.code == 2
    assert "--date must be a day from 1970-01-01 to" in capsys.readouterr().err


def test_a_superscript_digit_is_not_a_number_of_days(capsys):
    # "²".isdigit() is true but int("²") raises: argparse then printed "invalid _days value"
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["metrics", "reminders", "--days", "\u00b2"])

    assert exit_.value.code == 2 and "--days must be a whole number" in capsys.readouterr().err
