"""The sender's token bucket, on a fake clock (no sleeping, no timing)."""

from __future__ import annotations

import pytest

from switchboard.services.ratelimit import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_burst_is_spread_at_the_rate():
    time = FakeTime()
    bucket = TokenBucket(10, capacity=1, clock=time.clock, sleep=time.sleep)

    for _ in range(30):
        bucket.acquire()

    # 30 sends at 10/s with no burst allowance take 2.9 s of (fake) time: never faster than the limit
    assert time.now == pytest.approx(2.9)


def test_no_window_of_one_second_holds_more_than_the_rate():
    time = FakeTime()
    bucket = TokenBucket(5, capacity=1, clock=time.clock, sleep=time.sleep)
    stamps = []
    for _ in range(25):
        bucket.acquire()
        stamps.append(time.now)

    window = 1 - 1e-6  # float sums of 0.2 s land a hair under 1.0
    assert max(sum(1 for t in stamps if start <= t < start + window) for start in stamps) <= 5


def test_idle_time_refills_up_to_capacity_only():
    time = FakeTime()
    bucket = TokenBucket(10, capacity=2, clock=time.clock, sleep=time.sleep)
    time.now = 100.0

    waits = [bucket.acquire() for _ in range(3)]

    assert waits[:2] == [0.0, 0.0] and waits[2] == pytest.approx(0.1)


def test_the_rate_must_be_positive():
    with pytest.raises(ValueError):
        TokenBucket(0)
