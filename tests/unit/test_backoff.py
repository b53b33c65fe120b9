"""Backoff arithmetic, and the one source of truth shared with template.yaml's redrive policy."""

from __future__ import annotations

import random

import pytest

from switchboard.services.processing.backoff import (
    MAX_RECEIVES,
    QUEUE_MAX_RECEIVES,
    is_exhausted,
    next_visibility_timeout,
)
from switchboard_ops.local.template import load_template


@pytest.mark.parametrize(("receive_count", "seconds"), [(1, 60), (2, 120), (3, 240), (4, 480), (5, 960)])
def test_retries_wait_1_2_4_8_16_minutes(receive_count, seconds):
    assert next_visibility_timeout(receive_count) == seconds


def test_the_delay_is_capped():
    assert next_visibility_timeout(12, base_seconds=60, cap_seconds=900) == 900


def test_jitter_never_brings_a_retry_back_early_by_more_than_half():
    rng = random.Random(7)
    delays = {next_visibility_timeout(3, jitter=True, rng=rng) for _ in range(200)}

    assert min(delays) >= 120 and max(delays) <= 240
    assert len(delays) > 50  # actually spread out


def test_the_sixth_failure_is_exhausted_and_the_fifth_is_not():
    assert not is_exhausted(5)
    assert is_exhausted(6)


def test_receive_counts_start_at_one():
    with pytest.raises(ValueError):
        next_visibility_timeout(0)


def test_template_redrive_leaves_the_worker_room_to_finish_its_own_dead_lettering():
    # The worker dead-letters on the MAX_RECEIVES-th failure; the queue must not move the message itself
    # until a failed dead-lettering has had its retries (docs/adr/0005).
    queue = load_template()["Resources"]["ProcessingQueue"]["Properties"]

    assert queue["RedrivePolicy"]["maxReceiveCount"] == QUEUE_MAX_RECEIVES
    assert QUEUE_MAX_RECEIVES > MAX_RECEIVES


def test_queue_visibility_is_at_least_six_times_the_worker_timeout():
    resources = load_template()["Resources"]

    worker_timeout = resources["WorkerFunction"]["Properties"]["Timeout"]
    assert resources["ProcessingQueue"]["Properties"]["VisibilityTimeout"] >= 6 * worker_timeout
