"""Properties of the reminder rules over zones x DST dates x quiet windows x lead times: a send time is
never inside quiet hours (in any of the recipient's zones), never at or after the start, never before now."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.services.reminders.rules import QuietWindow, Rules, decide, in_quiet_hours

ZONES = [
    "America/Los_Angeles",
    "America/New_York",
    "America/Boise",
    "UTC",
    "Asia/Tokyo",
    "Europe/London",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Sao_Paulo",
]
# Instants around 2026's DST transitions (US, EU, Lord Howe), plus ordinary days
DST_DAYS = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 4, 5, tzinfo=UTC),
    datetime(2026, 10, 4, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 6, 15, tzinfo=UTC),
]
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@settings(max_examples=400, deadline=None)
@given(
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    day=st.sampled_from(DST_DAYS),
    offset_minutes=st.integers(-36 * 60, 36 * 60),
    windows=st.lists(st.builds(QuietWindow, times, times), max_size=2),
    lead_minutes=st.sampled_from([0, 5, 15, 60, 120, 24 * 60, 3 * 24 * 60]),
    booked_before_minutes=st.integers(0, 5 * 24 * 60),
)
def test_a_send_time_is_never_in_quiet_hours_never_after_the_start_never_before_now(
    zones, day, offset_minutes, windows, lead_minutes, booked_before_minutes
):
    # Given an event near a DST transition, a recipient's zones and quiet windows, a lead, a booking time
    start = day + timedelta(minutes=offset_minutes)
    now = start - timedelta(minutes=booked_before_minutes)
    rules = Rules(lead=timedelta(minutes=lead_minutes), quiet=tuple(windows))

    # When the send time is decided
    decision = decide(start, None, zones, rules, now)

    # Then a scheduled reminder respects every rule, and an unscheduled one says why
    if decision.send_at is None:
        assert decision.reason
        return
    assert now <= decision.send_at < start
    assert decision.send_at >= start - rules.lead or decision.send_at == now
    assert not in_quiet_hours(decision.send_at, zones, rules.quiet)
