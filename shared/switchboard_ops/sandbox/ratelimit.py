"""Token buckets, one per provider: `rate` requests a second, bursts up to `capacity` (default: one
second's worth). A request that finds the bucket empty gets a 429 and how long until a token is back."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self, rate: float, capacity: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(rate, 1.0))
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        """0.0 when a token was taken; otherwise the seconds until one will be available."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate


def retry_after_header(wait_seconds: float) -> str:
    """Retry-After takes whole seconds; never 0, or a client would retry straight into the limit."""
    return str(max(1, math.ceil(wait_seconds)))


class RateLimits:
    """The buckets by provider; replacing a rate starts that provider's bucket full again."""

    def __init__(self, rates: dict[str, float], clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self.configure(rates)

    def configure(self, rates: dict[str, float]) -> None:
        with self._lock:
            for provider, rate in rates.items():
                current = self._buckets.get(provider)
                if current is None or current.rate != rate:
                    self._buckets[provider] = TokenBucket(rate, clock=self._clock)

    def reset(self) -> None:
        with self._lock:
            self._buckets = {
                name: TokenBucket(b.rate, clock=self._clock) for name, b in self._buckets.items()
            }

    def try_acquire(self, provider: str) -> float:
        with self._lock:
            bucket = self._buckets.get(provider)
        return 0.0 if bucket is None else bucket.try_acquire()
