"""Reminder rules: send = start - lead on instants, judged in the recipient's local time; quiet hours,
DST gaps and folds, several zones per number, the daily limit and the compliance profile."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from switchboard.services.reminders import numbers
from switchboard.services.reminders.rules import (
    NO_ALLOWED_TIME,
    QUIET_HOURS,
    TOO_LATE,
    US_STATE_WINDOWS,
    QuietWindow,
    Rules,
    decide,
    in_quiet_hours,
    over_daily_limit,
    with_compliance,
    zones_for,
)

NY, LA, TOKYO = "America/New_York", "America/Los_Angeles", "Asia/Tokyo"
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
RULES = Rules()
QUIET_22_08 = Rules(quiet=(QuietWindow(time(22, 0), time(8, 0)),))


def at(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone), fold=fold)


def local(instant: datetime | None, zone: str) -> datetime:
    assert instant is not None
    return instant.astimezone(ZoneInfo(zone))


@pytest.mark.parametrize("zone", [LA, NY, "UTC", TOKYO])
def test_a_10_oclock_event_is_reminded_at_0945_local_in_every_zone(zone):
    decision = decide(at(zone, 2026, 12, 1, 10, 0), None, (zone,), RULES, LONG_AGO)
    assert local(decision.send_at, zone).time() == time(9, 45)


def test_an_event_moved_from_10_to_14_moves_its_reminder_from_0945_to_1345():
    before = decide(at(NY, 2026, 12, 1, 10), None, (NY,), RULES, LONG_AGO)
    after = decide(at(NY, 2026, 12, 1, 14), None, (NY,), RULES, LONG_AGO)
    assert (local(before.send_at, NY).time(), local(after.send_at, NY).time()) == (time(9, 45), time(13, 45))


def test_a_2300_send_in_quiet_hours_22_to_08_moves_to_0800():
    # Given an event at 09:00 with a 10-hour lead: the ideal send time is 23:00 the evening before
    rules = Rules(lead=timedelta(hours=10), quiet=QUIET_22_08.quiet)
    decision = decide(at(NY, 2026, 12, 2, 9, 0), None, (NY,), rules, LONG_AGO)
    assert local(decision.send_at, NY) == at(NY, 2026, 12, 2, 8, 0)
    assert decision.moved_by_quiet_hours


def test_an_event_at_0805_whose_reminder_falls_at_0750_moves_to_0800():
    decision = decide(at(NY, 2026, 12, 2, 8, 5), None, (NY,), QUIET_22_08, LONG_AGO)
    assert local(decision.send_at, NY) == at(NY, 2026, 12, 2, 8, 0)


def test_an_event_at_0700_is_not_reminded_because_quiet_hours_end_after_it():
    decision = decide(at(NY, 2026, 12, 2, 7, 0), None, (NY,), QUIET_22_08, LONG_AGO)
    assert (decision.send_at, decision.reason) == (None, QUIET_HOURS)


def test_a_booking_made_after_the_ideal_time_is_sent_now_or_not_at_all():
    start = at(NY, 2026, 12, 1, 14, 0)
    soon = decide(start, None, (NY,), RULES, start - timedelta(minutes=5))
    late = decide(start, None, (NY,), RULES, start + timedelta(minutes=1))
    assert soon.send_at == start - timedelta(minutes=5)
    assert (late.send_at, late.reason) == (None, TOO_LATE)


def test_spring_forward_lead_is_real_time_not_wall_time():
    # Given an event at 03:30 EDT on 2026-03-08, 15 real minutes after 02:00 EST became 03:00 EDT
    start = at(NY, 2026, 3, 8, 3, 30)
    decision = decide(start, None, (NY,), Rules(lead=timedelta(hours=1), quiet=()), LONG_AGO)
    # Then the reminder is one real hour before (06:30Z = 01:30 EST, wall clock 2 hours earlier), not
    # the wall-clock "start - 1 h" that same-zone datetime arithmetic gives (02:30, which does not exist)
    assert decision.send_at == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    assert local(decision.send_at, NY).time() == time(1, 30)


def test_quiet_hours_ending_in_a_spring_forward_gap_end_after_the_transition():
    # Given quiet hours ending at 02:30, a time that does not exist on 2026-03-08 in New York
    rules = Rules(lead=timedelta(hours=2), quiet=(QuietWindow(time(1, 0), time(2, 30)),))
    decision = decide(at(NY, 2026, 3, 8, 4, 0), None, (NY,), rules, LONG_AGO)
    # Then the reminder goes at 03:30 EDT (07:30Z), the instant after the gap
    assert decision.send_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_fall_back_fold_uses_the_first_0130_and_lead_stays_real_time():
    # Given an event at the second 01:30 (EST) on 2026-11-01 and a 60 minute lead
    start = at(NY, 2026, 11, 1, 1, 30, fold=1)
    decision = decide(start, None, (NY,), Rules(lead=timedelta(hours=1), quiet=()), LONG_AGO)
    # Then the reminder is at the first 01:30 (EDT): one real hour before, same wall clock
    assert decision.send_at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert local(decision.send_at, NY).time() == time(1, 30)


def test_quiet_hours_ending_in_a_fold_end_at_the_first_occurrence():
    rules = Rules(lead=timedelta(hours=3), quiet=(QuietWindow(time(0, 0), time(1, 30)),))
    decision = decide(at(NY, 2026, 11, 1, 3, 0), None, (NY,), rules, LONG_AGO)
    assert decision.send_at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT


def test_inside_the_second_pass_of_a_fold_quiet_hours_end_at_the_second_occurrence():
    # Given quiet hours 00:00-01:30 and an ideal send time at the second 01:15 (EST) on 2026-11-01
    rules = Rules(lead=timedelta(minutes=45), quiet=(QuietWindow(time(0, 0), time(1, 30)),))
    decision = decide(at(NY, 2026, 11, 1, 2, 0), None, (NY,), rules, LONG_AGO)
    # Then it moves 15 minutes, to the second 01:30 (06:30Z), not to the next night
    assert decision.send_at == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_all_day_events_are_reminded_at_the_configured_local_time():
    decision = decide(None, date(2026, 12, 24), (TOKYO,), Rules(all_day_at=time(9, 30)), LONG_AGO)
    assert local(decision.send_at, TOKYO) == at(TOKYO, 2026, 12, 24, 9, 30)


def test_a_number_in_two_zones_is_outside_quiet_hours_only_if_outside_in_both():
    # Given a Boise/Los Angeles number (208) and a reminder due 08:15 Mountain = 07:15 Pacific
    zones = numbers.number_zones("+12085550123")
    assert set(zones) == {"America/Boise", LA}
    start = at("America/Boise", 2026, 12, 1, 8, 30)
    decision = decide(
        start + timedelta(hours=2), None, zones, Rules(lead=timedelta(hours=2, minutes=15)), LONG_AGO
    )
    # Then it waits for 08:00 in Los Angeles, the later of the two ends
    assert local(decision.send_at, LA).time() == time(8, 0)
    assert not in_quiet_hours(decision.send_at, zones, RULES.quiet)  # type: ignore[arg-type]


def test_zones_that_cover_the_whole_day_leave_no_allowed_time():
    zones = ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata", "America/Sao_Paulo")
    rules = Rules(quiet=(QuietWindow(time(18, 0), time(8, 0)),))
    decision = decide(at("UTC", 2026, 12, 5, 12, 0), None, zones, rules, LONG_AGO)
    assert (decision.send_at, decision.reason) == (None, NO_ALLOWED_TIME)


def test_limit_5_with_10_events_keeps_the_first_5_of_the_local_day():
    # Given ten reminders on one local day in Tokyo
    base = at(TOKYO, 2026, 12, 1, 9, 0)
    scheduled = [(f"r{index}", base + timedelta(minutes=30 * index)) for index in range(10)]
    # When the daily limit is applied
    excess = over_daily_limit(scheduled, TOKYO, limit=5)
    # Then the five latest are over it
    assert excess == {"r5", "r6", "r7", "r8", "r9"}


def test_the_daily_limit_counts_per_local_day_not_per_utc_day():
    # Given 3 reminders at 23:00-23:30 and 3 at 00:30 local in Los Angeles (one UTC day, two local days)
    evening = [(f"e{i}", at(LA, 2026, 12, 1, 23, 10 * i)) for i in range(3)]
    morning = [(f"m{i}", at(LA, 2026, 12, 2, 0, 30 + i)) for i in range(3)]
    assert over_daily_limit(evening + morning, LA, limit=3) == set()
    assert over_daily_limit(evening + morning, "UTC", limit=3) == {"m0", "m1", "m2"}


def test_sends_already_made_count_towards_the_day():
    scheduled = [("a", at(NY, 2026, 12, 1, 10)), ("b", at(NY, 2026, 12, 1, 11))]
    assert over_daily_limit(scheduled, NY, limit=5, already_sent={date(2026, 12, 1): 4}) == {"b"}


def test_the_compliance_profile_is_off_by_default_and_narrows_florida_to_8pm():
    start = at(NY, 2026, 12, 2, 8, 45)  # an event at 08:45 reminded with a 12-hour lead: 20:45
    rules = Rules(lead=timedelta(hours=12))
    plain = decide(start, None, (NY,), rules, LONG_AGO)
    florida = decide(start, None, (NY,), with_compliance(rules, US_STATE_WINDOWS, "FL"), LONG_AGO)
    assert local(plain.send_at, NY).time() == time(20, 45)
    assert local(florida.send_at, NY) == at(NY, 2026, 12, 2, 8, 0)
    assert with_compliance(rules, None, "FL") == rules


def test_a_florida_number_is_recognised_for_the_profile():
    assert (numbers.us_state("+13055550123"), numbers.us_state("+18504340000")) == ("FL", "FL")
    assert numbers.us_state("+819012345678") is None


def test_the_booking_zone_wins_over_the_numbers_zones():
    assert zones_for(TOKYO, ("America/Boise", LA), NY) == (TOKYO,)
    assert zones_for(None, ("America/Boise", LA), NY) == ("America/Boise", LA)
    assert zones_for(None, (), NY) == (NY,)
    assert zones_for(None, (), None) == ("UTC",)
