"""Listing a provider's own messages (reconciliation): what every provider's list client shares. Each
client (providers/twilio_listing.py, providers/openphone_listing.py) yields (items of one page, cursor of
the next page or None), so a caller can stop between pages and resume later from the cursor. Every request
first takes a token from the injected bucket; a 429 waits Retry-After (else exponential backoff) and a
5xx / connection error backs off, both for a bounded number of attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

from switchboard.errors import MalformedPayload
from switchboard.models import Message
from switchboard.observability import logger

T = TypeVar("T")
Page = tuple[list[Message], Any]  # (messages, cursor of the next page or None)
LIST_TIMEOUT = (3.05, 20)  # connect, read (seconds)


class Bucket(Protocol):
    def acquire(self) -> float: ...


class ListUnavailable(Exception):
    """The provider kept answering 429 / 5xx (or could not be reached) after every attempt."""


class ListRejected(Exception):
    """The provider refused the request (a 4xx other than 429): retrying will not help."""


class RetryableStatus(Exception):
    def __init__(self, status: int, retry_after: str | None = None) -> None:
        super().__init__(f"provider answered {status}")
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    max_retry_after_seconds: float = 60.0  # a Retry-After beyond this is clamped, not obeyed blindly

    def backoff(self, attempt: int) -> float:
        """Exponential: base * 2**(attempt-1), capped (attempt counts from 1)."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1)))

    def delay(self, attempt: int, retry_after: str | None, now: float) -> float:
        """Retry-After (seconds or an HTTP date) when present and readable, else the backoff."""
        waited = parse_retry_after(retry_after, now)
        if waited is None:
            return self.backoff(attempt)
        return min(self.max_retry_after_seconds, max(0.0, waited))


def parse_retry_after(value: str | None, now: float) -> float | None:
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


@dataclass
class Pacing:
    """What every list request goes through: the token bucket, then retries; injectable for tests."""

    bucket: Bucket | None = None
    policy: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    retries: int = 0  # retried requests so far (429 + 5xx), for the caller's stats
    throttled: int = 0  # 429s seen
    malformed: int = 0  # listed items that could not be mapped (skipped, counted as errors)

    def mapped(self, items: Iterator[Any] | list[Any], mapper: Callable[[Any], T]) -> list[T]:
        mapped: list[T] = []
        for item in items:
            try:
                mapped.append(mapper(item))
            except MalformedPayload as exc:
                self.malformed += 1
                logger.warning("listed item skipped: cannot map it", error=str(exc))
        return mapped

    def call(self, request: Callable[[], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            if self.bucket is not None:
                self.bucket.acquire()
            try:
                return request()
            except RetryableStatus as exc:
                if attempt >= self.policy.max_attempts:
                    raise ListUnavailable(f"{exc} after {attempt} attempts") from exc
                if exc.status == 429:
                    self.throttled += 1
                retry_after = exc.retry_after if exc.status == 429 else None
                delay = self.policy.delay(attempt, retry_after, self.clock())
            except ConnectionError as exc:
                if attempt >= self.policy.max_attempts:
                    raise ListUnavailable(f"{exc} after {attempt} attempts") from exc
                delay = self.policy.backoff(attempt)
            self.retries += 1
            self.sleep(delay)


def response_header(response: Any, name: str) -> str | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get(name)
    return str(value) if value is not None else None


def is_retryable(status: int) -> bool:
    return status == 429 or status >= 500
