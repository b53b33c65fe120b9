"""Listing a provider's own messages (reconciliation): what every provider's list client shares. Each
client (providers/twilio_listing.py, providers/openphone_listing.py) yields (items of one page, cursor of
the next page or None), so a caller can stop between pages and resume later from the cursor. Every request
first takes a token from the injected bucket; a 429 waits Retry-After (else exponential backoff) and a
5xx / connection error backs off, both for a bounded number of attempts (retry.PROVIDER_LISTING).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from switchboard.errors import MalformedPayload
from switchboard.models import Message
from switchboard.observability import logger
from switchboard.retry import PROVIDER_LISTING, RequestRetry

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


@dataclass
class Pacing:
    """What every list request goes through: the token bucket, then retries; injectable for tests."""

    bucket: Bucket | None = None
    policy: RequestRetry = PROVIDER_LISTING
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
