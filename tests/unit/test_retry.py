"""The retry policies (switchboard.retry): their arithmetic, and the one place that ties each policy's
numbers to template.yaml (redrive maxReceiveCount, visibility timeouts, the worker's backoff variables)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from switchboard.retry import (
    OUTBOUND_SENDS,
    PROCESSING_JOBS,
    PROVIDER_LISTING,
    RECONCILE_CONTINUATIONS,
    REMINDERS,
    QueueRetry,
    is_retryable_status,
)
from switchboard_ops.local.template import load_template


def resources() -> dict:
    return load_template()["Resources"]


def max_receive_count(queue: str) -> int:
    return int(resources()[queue]["Properties"]["RedrivePolicy"]["maxReceiveCount"])


# ---------------------------------------------------------------- the worker's ladder


@pytest.mark.parametrize(("receive_count", "seconds"), [(1, 60), (2, 120), (3, 240), (4, 480), (5, 960)])
def test_retries_wait_1_2_4_8_16_minutes(receive_count, seconds):
    assert PROCESSING_JOBS.visibility_timeout(receive_count) == seconds


def test_the_delay_is_capped():
    assert replace(PROCESSING_JOBS, base_seconds=60, cap_seconds=900).visibility_timeout(12) == 900


def test_jitter_never_brings_a_retry_back_early_by_more_than_half():
    rng = random.Random(7)
    jittered = replace(PROCESSING_JOBS, jitter=True)
    delays = {jittered.visibility_timeout(3, rng=rng) for _ in range(200)}

    assert min(delays) >= 120 and max(delays) <= 240
    assert len(delays) > 50  # actually spread out


def test_the_sixth_failure_is_exhausted_and_the_fifth_is_not():
    assert not PROCESSING_JOBS.is_exhausted(5)
    assert PROCESSING_JOBS.is_exhausted(6)


def test_only_a_receive_after_the_last_attempt_is_past_it():
    assert not PROCESSING_JOBS.is_past_last_attempt(6)
    assert PROCESSING_JOBS.is_past_last_attempt(7)


def test_receive_counts_start_at_one():
    with pytest.raises(ValueError):
        PROCESSING_JOBS.visibility_timeout(0)


def test_a_delay_never_exceeds_what_sqs_accepts():
    assert QueueRetry(attempts=40, base_seconds=60, cap_seconds=10**9).visibility_timeout(30) == 12 * 60 * 60


# ---------------------------------------------------------------- the sender's and reminders' ladders


def test_a_send_retries_after_30_then_60_seconds_and_its_third_failure_is_exhausted():
    assert [OUTBOUND_SENDS.visibility_timeout(n) for n in (1, 2)] == [30, 60]
    assert not OUTBOUND_SENDS.is_exhausted(2)
    assert OUTBOUND_SENDS.is_exhausted(3)


def test_a_reminder_retries_after_2_then_4_minutes_and_its_third_failure_is_exhausted():
    assert [REMINDERS.visibility_timeout(n) for n in (1, 2)] == [120, 240]
    assert not REMINDERS.is_exhausted(2)
    assert REMINDERS.is_exhausted(3)


# ---------------------------------------------------------------- the listing's request retries


def test_a_listing_request_is_tried_5_times_backing_off_from_half_a_second():
    assert PROVIDER_LISTING.max_attempts == 5
    assert [PROVIDER_LISTING.backoff(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert PROVIDER_LISTING.delay(1, "600", now=0.0) == 60.0  # a long Retry-After is clamped


@pytest.mark.parametrize(
    ("status", "retried"), [(429, True), (500, True), (503, True), (400, False), (404, False)]
)
def test_only_throttling_and_server_errors_are_retried_in_place(status, retried):
    assert is_retryable_status(status) is retried


# ---------------------------------------------------------------- tied to template.yaml


def test_template_redrive_leaves_the_worker_room_to_finish_its_own_dead_lettering():
    # The worker dead-letters on its last attempt; the queue must not move the message itself until a
    # failed dead-lettering has had its retries (docs/adr/0005).
    assert max_receive_count("ProcessingQueue") == PROCESSING_JOBS.queue_max_receives
    assert PROCESSING_JOBS.queue_max_receives > PROCESSING_JOBS.attempts


def test_template_leaves_the_sender_room_to_finish_its_own_dead_lettering():
    assert max_receive_count("OutboundQueue") == OUTBOUND_SENDS.queue_max_receives
    assert OUTBOUND_SENDS.queue_max_receives > OUTBOUND_SENDS.attempts


def test_reminder_sends_share_the_outbound_queue_and_its_room_to_finish_dead_lettering():
    # Reminders ride OutboundQueue with their own backoff (services/sender.retry_policy)
    assert max_receive_count("OutboundQueue") == REMINDERS.queue_max_receives
    assert REMINDERS.queue_max_receives > REMINDERS.attempts


def test_the_worker_backoff_variables_in_the_template_are_the_ladder():
    variables = resources()["WorkerFunction"]["Properties"]["Environment"]["Variables"]

    assert int(variables["BACKOFF_BASE_SECONDS"]) == PROCESSING_JOBS.base_seconds
    assert int(variables["BACKOFF_CAP_SECONDS"]) == PROCESSING_JOBS.cap_seconds
    assert variables["BACKOFF_JITTER"] == str(PROCESSING_JOBS.jitter).lower()


def test_queue_visibility_is_at_least_six_times_the_worker_timeout():
    worker_timeout = resources()["WorkerFunction"]["Properties"]["Timeout"]
    assert resources()["ProcessingQueue"]["Properties"]["VisibilityTimeout"] >= 6 * worker_timeout


def test_a_locked_continuation_is_redelivered_after_the_queue_visibility_until_the_redrive():
    # The reconcile function raises on a locked continuation; SQS alone waits and dead-letters.
    queue = resources()["ReconcileContinuationQueue"]["Properties"]

    assert queue["VisibilityTimeout"] == RECONCILE_CONTINUATIONS.visibility_timeout(1)
    assert RECONCILE_CONTINUATIONS.visibility_timeout(1) == RECONCILE_CONTINUATIONS.visibility_timeout(4)
    assert queue["RedrivePolicy"]["maxReceiveCount"] == RECONCILE_CONTINUATIONS.queue_max_receives
    assert RECONCILE_CONTINUATIONS.queue_max_receives == RECONCILE_CONTINUATIONS.attempts


def test_a_continuation_waits_at_least_the_reconcile_function_timeout():
    reconcile_timeout = resources()["ReconcileFunction"]["Properties"]["Timeout"]
    assert RECONCILE_CONTINUATIONS.visibility_timeout(1) >= reconcile_timeout
