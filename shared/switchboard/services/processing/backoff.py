"""Retry schedule for processing jobs: 1, 2, 4, 8, 16 minutes, then the dead-letter queue.

MAX_RECEIVES is the one source of truth: template.yaml's maxReceiveCount must equal it (a test checks).
"""

from __future__ import annotations

import random

MAX_RECEIVES = 6  # 1 try + 5 retries; the 6th failure is "exhausted"
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
