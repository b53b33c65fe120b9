"""Every retry and backoff policy in Switchboard, by name: the numbers live here and nowhere else.

Two kinds of retry, one class each:
- `QueueRetry`: a message consumer that fails is retried by SQS redelivering the message. The delay is a
  visibility timeout (set by the consumer, or the queue's own); the consumer dead-letters the last
  allowed failure itself, and template.yaml's maxReceiveCount is `queue_max_receives`, `redrive_room`
  receives more, so a failed dead-lettering can be finished before SQS's redrive moves the message
  (docs/adr/0005). tests/unit/test_retry.py ties every policy to template.yaml.
- `RequestRetry`: an HTTP request retried in place (429 / 5xx / connection errors), waiting the
  provider's Retry-After when it sends one, else the backoff; a bounded number of attempts.

Both back off with `exponential`: base * 2^(attempt-1), capped. Standard library only, so that
providers/ and services/ can both import it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60


def exponential(attempt: int, base_seconds: float, cap_seconds: float) -> float:
    """The wait after the `attempt`-th failure (counted from 1): base * 2^(attempt-1), capped."""
    return float(min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class QueueRetry:
    """Retries through SQS redelivery: `attempts` receives at most, the n-th failure hidden for a backoff."""

    attempts: int
    base_seconds: int
    cap_seconds: int
    redrive_room: int = 3  # receives past the last attempt to finish a failed dead-lettering
    jitter: bool = False

    @property
    def queue_max_receives(self) -> int:
        """template.yaml's maxReceiveCount for the consumer's queue."""
        return self.attempts + self.redrive_room

    def is_exhausted(self, receive_count: int) -> bool:
        """True when this failure was the last allowed attempt."""
        return receive_count >= self.attempts

    def is_past_last_attempt(self, receive_count: int) -> bool:
        """Back after its last attempt: only the dead-lettering is left to do, never another attempt."""
        return receive_count > self.attempts

    def visibility_timeout(self, receive_count: int, rng: random.Random | None = None) -> int:
        """Seconds until a message that failed on its `receive_count`-th receive is tried again.

        With jitter, "equal jitter" keeps at least half the delay, so retries spread out without ever
        coming back early.
        """
        if receive_count < 1:
            raise ValueError("receive_count starts at 1")
        delay = int(exponential(receive_count, self.base_seconds, self.cap_seconds))
        if self.jitter:
            half = delay / 2
            delay = int(half + (rng or random).uniform(0, half))
        return max(0, min(delay, SQS_MAX_VISIBILITY_SECONDS))


@dataclass(frozen=True)
class RequestRetry:
    """Retries of one HTTP request in place, honouring Retry-After within a bound."""

    max_attempts: int
    base_seconds: float
    cap_seconds: float
    max_retry_after_seconds: float  # a Retry-After beyond this is clamped, not obeyed blindly

    def backoff(self, attempt: int) -> float:
        """Exponential: base * 2**(attempt-1), capped (attempt counts from 1)."""
        return exponential(attempt, self.base_seconds, self.cap_seconds)

    def delay(self, attempt: int, retry_after: str | None, now: float) -> float:
        """Retry-After (seconds or an HTTP date) when present and readable, else the backoff."""
        waited = parse_retry_after(retry_after, now)
        if waited is None:
            return self.backoff(attempt)
        return min(self.max_retry_after_seconds, max(0.0, waited))


def is_retryable_status(status: int) -> bool:
    """An HTTP status worth retrying in place: throttled (429) or a server error (5xx)."""
    return status == 429 or status >= 500


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() - now


# WorkerFunction: 1 try + 5 retries after 1, 2, 4, 8, 16 minutes; the 6th failure is dead-lettered.
# BACKOFF_BASE_SECONDS / BACKOFF_CAP_SECONDS override base and cap (the local stack's time scale).
PROCESSING_JOBS = QueueRetry(attempts=6, base_seconds=60, cap_seconds=16 * 60)
# SenderFunction: "certainly not accepted" sends retry after 30 s, then 60 s; at most 3 attempts.
OUTBOUND_SENDS = QueueRetry(attempts=3, base_seconds=30, cap_seconds=4 * 30)
# ReconcileFunction's continuations: a locked continuation raises and SQS redelivers it after the queue's
# VisibilityTimeout (>= the 900 s function timeout, about the lock's 16-minute expiry); the queue's
# redrive, not the consumer, dead-letters the 5th failure.
RECONCILE_CONTINUATIONS = QueueRetry(attempts=5, base_seconds=16 * 60, cap_seconds=16 * 60, redrive_room=0)
# SenderFunction, purpose "reminder" (services/sender.retry_policy): transient failures retry after 2 and
# then 4 minutes, at most 3 attempts; it shares OutboundQueue, so queue_max_receives = OUTBOUND_SENDS'.
REMINDERS = QueueRetry(attempts=3, base_seconds=2 * 60, cap_seconds=4 * 60)
# Provider list clients (reconciliation): 429 / 5xx / connection errors, 5 attempts per request.
PROVIDER_LISTING = RequestRetry(
    max_attempts=5, base_seconds=0.5, cap_seconds=30.0, max_retry_after_seconds=60.0
)
# Slack incoming webhooks (hot-lead notices): 429 / 5xx / connection errors, 3 attempts, Retry-After
# clamped to 5 s so a throttled Slack can never hold a job for long (the notice is best effort).
SLACK_WEBHOOKS = RequestRetry(max_attempts=3, base_seconds=0.5, cap_seconds=2.0, max_retry_after_seconds=5.0)
