"""The delivery thread: one worker runs scheduled tasks (status changes) and POSTs webhooks in order,
signing each attempt when it is made. A connection error or a 5xx is retried once, as Twilio does;
`wait_idle` blocks until nothing is queued, scheduled or running, so tests can be deterministic."""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchboard_ops.sandbox.store import Store


@dataclass(frozen=True)
class Webhook:
    kind: str  # "twilio.inbound", "twilio.status", "openphone.message.received", ...
    url: str
    body: bytes
    content_type: str
    sign: Callable[[str, bytes], dict[str, str]]  # (url, body) -> signature headers, at send time
    user_agent: str = "switchboard-sandbox"
    message_id: str = ""
    inbound: bool = True  # counted as a webhook (True) or as a status callback (False)


@dataclass
class Outcome:
    kind: str
    url: str
    message_id: str
    ok: bool = False
    status: int | None = None
    attempts: int = 0
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "message_id": self.message_id,
            "ok": self.ok,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
        }


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        *,
        timeout: float = 5.0,
        retry_delay: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.timeout = timeout
        self.retry_delay = retry_delay
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._running = 0
        self._stopping = False
        self._generation = 0  # bumped by clear(): tasks of an older generation are skipped
        self._thread: threading.Thread | None = None
        self._session: Any = None
        self._recent: deque[dict[str, Any]] = deque(maxlen=500)

    def start(self) -> None:
        import requests

        self._session = requests.Session()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sandbox-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._session is not None:
            self._session.close()
            self._session = None

    def schedule(self, delay: float, task: Callable[[], None]) -> None:
        """Run `task` on the delivery thread after `delay` seconds (in order among equal times)."""
        with self._cond:
            generation = self._generation

            def guarded() -> None:
                if generation == self._generation:
                    task()

            heapq.heappush(self._heap, (self._clock() + max(delay, 0.0), next(self._order), guarded))
            self._cond.notify_all()

    def post(self, webhook: Webhook, delay: float = 0.0) -> Outcome:
        """Queue a webhook; the returned Outcome's `done` is set after the last attempt."""
        outcome = Outcome(webhook.kind, webhook.url, webhook.message_id)
        self.schedule(delay, lambda: self._attempt(webhook, outcome))
        return outcome

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._running

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def recent(self) -> list[dict[str, Any]]:
        """The last 500 finished deliveries, oldest first."""
        with self._cond:
            return list(self._recent)

    def clear(self) -> None:
        """Forget everything queued or scheduled, and the recent outcomes (reset); a running task finishes."""
        with self._cond:
            self._heap.clear()
            self._recent.clear()
            self._generation += 1
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._heap:
                        wait = self._heap[0][0] - self._clock()
                        if wait <= 0:
                            break
                        self._cond.wait(min(wait, 0.05))
                    else:
                        self._cond.wait(0.5)
                if self._stopping:
                    return
                _, _, task = heapq.heappop(self._heap)
                self._running += 1
            try:
                task()
            except Exception as exc:  # noqa: BLE001 - a bad task must not kill the delivery thread
                print(f"sandbox: delivery task failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _attempt(self, webhook: Webhook, outcome: Outcome) -> None:
        import requests

        outcome.attempts += 1
        headers = {"Content-Type": webhook.content_type, "User-Agent": webhook.user_agent}
        headers.update(webhook.sign(webhook.url, webhook.body))
        retryable = False
        try:
            response = self._session.post(
                webhook.url, data=webhook.body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            outcome.status, outcome.error, retryable = None, type(exc).__name__, True
        else:
            outcome.status, outcome.error = response.status_code, None
            outcome.ok = 200 <= response.status_code < 300
            retryable = response.status_code >= 500
            response.close()
        if retryable and outcome.attempts < 2 and not self._stopping:
            self.store.count("retries")
            self.schedule(self.retry_delay, lambda: self._attempt(webhook, outcome))
            return
        self._finish(webhook, outcome)

    def _finish(self, webhook: Webhook, outcome: Outcome) -> None:
        if webhook.inbound:
            self.store.count("webhooks_delivered" if outcome.ok else "webhooks_failed")
        else:
            self.store.count("callbacks" if outcome.ok else "callbacks_failed")
        with self._cond:
            self._recent.append(outcome.describe())
        outcome.done.set()
