"""The template's schedules run by the local stack's clock: `rate(1 hour)` at `--time-scale 600` fires
every 6 real seconds - not at start-up, one period after it - invoking HealthCheckFunction with a
scheduled event, whose canary then goes round the loop like any other."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.e2e

PERIOD = 6.0  # rate(1 hour) / 600


def hourly(stack) -> dict:
    listing = stack.cli_json("local", "schedules")
    assert listing["mode"] == "on"
    return next(item for item in listing["schedules"] if item["function"] == "HealthCheckFunction")


def test_rate_1_hour_fires_every_period_of_the_scaled_clock(stack_launcher, state_dir):
    # Given a stack whose clock runs 600 times faster, with its schedules on
    stack = stack_launcher(state_dir, "--time-scale", "600", "--schedules", "on")
    started = time.monotonic()

    # Then the hourly check did not fire at start-up: its first fire is one (6 s) period away
    first = hourly(stack)
    assert first["real_period_seconds"] == PERIOD
    if first["fired"] == 0:  # (a machine slow enough to take a whole period to get here proves nothing)
        assert 0 < first["next_in_seconds"] <= PERIOD
    assert "SCHEDULE" not in stack.log().split("Switchboard local stack is up")[0]

    # When two periods pass, it has fired on its own, twice
    deadline = started + 2 * PERIOD + 5
    while hourly(stack)["fired"] < 2:
        assert time.monotonic() < deadline, stack.log()[-3000:]
        time.sleep(0.5)
    assert hourly(stack)["last_outcome"] == "ok"

    # And those were real health checks: started, and judged passed (the canary timeout is 1 s here)
    deadline = time.monotonic() + 10
    while (stats := stack.cli_json("health", "stats"))["passed"] < 1:
        assert time.monotonic() < deadline, stats
        time.sleep(0.5)
    assert "SCHEDULE rate(1 hour) -> HealthCheckFunction (Hourly)" in stack.log()
