"""The calendar providers' shared helpers: sortable versions, forgiving phones, offset-bearing times."""

from __future__ import annotations

import pytest

from switchboard.errors import MalformedPayload
from switchboard.providers._calendar import (
    instant,
    last_segment,
    optional_phone,
    version_from_number,
    version_from_time,
)


def test_versions_from_times_and_numbers_sort_as_strings_in_numeric_order():
    times = ["2026-11-25T08:00:00Z", "2026-11-25T08:00:00.001Z", "2027-01-01T00:00:00Z"]
    assert sorted(version_from_time(value, field="t") for value in times) == [
        version_from_time(value, field="t") for value in times
    ]
    assert version_from_number(9, field="v") < version_from_number(10, field="v")


@pytest.mark.parametrize("value", [True, -1, 1.5, "3", 10**20])
def test_a_version_must_be_a_small_non_negative_integer(value):
    with pytest.raises(MalformedPayload):
        version_from_number(value, field="version")


@pytest.mark.parametrize("value", [None, "", "12345", "call me", {"n": 1}, ["+14155550123"]])
def test_an_absent_short_or_unusable_phone_is_none(value):
    assert optional_phone(value, field="phone") is None


def test_a_written_phone_becomes_e164():
    assert optional_phone("+1 (415) 555-0123", field="phone") == "+14155550123"


def test_a_time_without_an_offset_is_refused():
    with pytest.raises(MalformedPayload, match="offset"):
        instant("2026-12-01T10:00:00", field="start")
    assert instant("2026-12-01T10:00:00-05:00", field="start") is not None


def test_the_invitee_id_is_the_uris_last_segment():
    assert last_segment("https://api.calendly.com/scheduled_events/E/invitees/I1/") == "I1"
