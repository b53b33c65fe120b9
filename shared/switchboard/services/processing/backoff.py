"""Retry schedule for processing jobs: 1, 2, 4, 8, 16 minutes, then the dead-letter queue.

MAX_RECEIVES is the one source of truth for attempts. template.yaml's maxReceiveCount is QUEUE_MAX_RECEIVES,
a few receives more (a test checks): the worker dead-letters a job itself, with its reason, and a message
back past its last attempt only finishes that; the queue's redrive is the backstop (docs/adr/0005).
"""

from __future__ import annotations

import random

MAX_RECEIVES = 6  # 1 try + 5 retries; the 6th failure is "exhausted"
QUEUE_MAX_RECEIVES = MAX_RECEIVES + 3  # 3 more tries at dead-lettering before SQS's redrive takes over
BASE_SECONDS = 60
CAP_SECONDS = 16 * 60
SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60


def is_exhausted(receive_count: int, max_receives: int = MAX_RECEIVES) -> bool:
    """True when this failure was the last allowed attempt."""
    return receive_count >= max_receives


def next_visibility_timeout(
    receive_count: int,
    *,
    base_seconds: int = BASE_SECONDS,
    cap_seconds: int = CAP_SECONDS,
    jitter: bool = False,
    rng: random.Random | None = None,
) -> int:
    """Seconds until a message that failed on its `receive_count`-th receive is tried again.

    base * 2^(n-1), capped; with jitter, "equal jitter" keeps at least half the delay so retries
    spread out without ever coming back early.
    """
    if receive_count < 1:
        raise ValueError("receive_count starts at 1")
    delay = min(cap_seconds, base_seconds * 2 ** (receive_count - 1))
    if jitter:
        half = delay / 2
        delay = int(half + (rng or random).uniform(0, half))
    return max(0, min(int(delay), SQS_MAX_VISIBILITY_SECONDS))
