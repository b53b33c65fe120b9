"""Integrity arithmetic and the reconciler's bookkeeping with in-memory fakes (no AWS, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from model_factories import message

from switchboard.models import Message
from switchboard.providers.listing import Pacing
from switchboard.services.reconcile import Reconciler, consistency_rate

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC).timestamp()


def test_consistency_rate():
    assert consistency_rate(0, 0) == 1.0
    assert consistency_rate(1000, 1000) == 1.0
    assert consistency_rate(1000, 999) == pytest.approx(0.999)
    assert consistency_rate(1000, 998) == pytest.approx(0.998)
    assert consistency_rate(10, 12) == 1.0  # extra stored messages never lift it above 1


def listed(day: datetime, index: int) -> Message:
    return message(
        provider_message_id=f"SM{day:%m%d}{index:05d}",
        occurred_at=day + timedelta(hours=12),
        event_type="message.listed",
    )


class DaySource:
    name = "twilio"

    def __init__(self, per_day: dict[str, int]) -> None:
        self.per_day = per_day
        self.pacing = Pacing()

    def pages(self, start: datetime, end: datetime, cursor: Any) -> Iterator[tuple[list[Message], Any]]:
        count = self.per_day.get(start.date().isoformat(), 0)
        yield [listed(start, index) for index in range(count)], None

    def done_fraction(self, items: Any, cursor: Any, start: datetime, end: datetime) -> float | None:
        return None  # the integrity check lists whole days: progress is never asked


class Records:
    def __init__(self, stored: dict[str, int]) -> None:
        self.stored = stored
        self.since: str | None = None

    def stored_message_days(self, provider: str, since_iso: str) -> dict[str, int]:
        self.since = since_iso
        return self.stored


def test_integrity_alerts_once_when_any_day_is_below_99_9_percent():
    listed = {"2026-11-18": 1000, "2026-11-20": 2000, "2026-11-24": 10}
    stored = {"2026-11-18": 999, "2026-11-20": 1990, "2026-11-24": 10}
    alerts: list[tuple[str, str]] = []
    records = Records(stored)
    reconciler = Reconciler(
        sources={"twilio": DaySource(listed)},
        records=records,  # type: ignore[arg-type]
        store=None,  # type: ignore[arg-type]
        jobs=None,  # type: ignore[arg-type]
        alert=lambda subject, text: alerts.append((subject, text)),
        clock=lambda: NOW,
    )
    report = reconciler.integrity_check(days=7)

    days = [row["day"] for row in report["days"]]
    assert days == [f"2026-11-{day}" for day in range(18, 25)]  # the 7 whole days before today
    assert records.since == "2026-11-18"
    rates = {row["day"]: row["consistency"] for row in report["days"]}
    assert rates["2026-11-18"] == pytest.approx(0.999)  # exactly at the threshold: fine
    assert rates["2026-11-20"] == pytest.approx(0.995)
    assert rates["2026-11-19"] == 1.0  # nothing listed, nothing stored
    assert report["status"] == "alert" and report["below_threshold"] == 1
    assert len(alerts) == 1 and "2026-11-20: 1990/2000" in alerts[0][1] and "2026-11-18" not in alerts[0][1]


def test_integrity_is_quiet_when_every_day_matches():
    alerts: list[Any] = []
    reconciler = Reconciler(
        sources={"twilio": DaySource({"2026-11-24": 5})},
        records=Records({"2026-11-24": 5}),  # type: ignore[arg-type]
        store=None,  # type: ignore[arg-type]
        jobs=None,  # type: ignore[arg-type]
        alert=lambda subject, text: alerts.append(subject),
        clock=lambda: NOW,
    )
    assert reconciler.integrity_check(days=3)["status"] == "ok" and alerts == []


@pytest.mark.parametrize("hours", ["abc", 0, -5, 10_000, [1]])
def test_a_manual_run_with_a_nonsense_window_is_refused_clearly(hours):
    from switchboard_ops.project import load_handler

    positive_hours = load_handler("reconcile")._positive_hours

    with pytest.raises(ValueError, match="hours must be"):
        positive_hours(hours)


@pytest.mark.parametrize("days", [0, 32, 100_000_000])
def test_an_integrity_window_out_of_range_is_refused_clearly(days):
    reconciler = Reconciler(
        sources={"twilio": DaySource({})},
        records=Records({}),  # type: ignore[arg-type]
        store=None,  # type: ignore[arg-type]
        jobs=None,  # type: ignore[arg-type]
        alert=lambda subject, text: None,
        clock=lambda: NOW,
    )
    # 100000000 days was an OverflowError from the date arithmetic; 0 checked nothing and said ok
    with pytest.raises(ValueError, match="days must be from 1 to 31"):
        reconciler.integrity_check(days=days)
