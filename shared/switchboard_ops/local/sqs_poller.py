"""The template's SQS event-source mappings, run the way Lambda's poller runs them.

One thread per `Events: {Type: SQS}` entry: a short long-poll (bounded, so a stop is noticed within
about a second), more receives until BatchSize or MaximumBatchingWindowInSeconds, one invocation through
the function's runtime (its lock, its Lambda context: the same path as an HTTP invocation), then Lambda's
rules for what to delete (`sqs_events.batch_outcome`). Nothing else: a message left undeleted comes back
when its visibility timeout ends (the worker's own backoff sets that), and the queue's redrive policy
(maxReceiveCount -> dead-letter queue) is moto's to apply, as SQS applies it.

Unlike Lambda, every function here shares one process, and with it module-level state that separate
containers never share (switchboard.sqs_batch's one BatchProcessor, Powertools' metrics): so the pollers
take turns - one SQS batch at a time across all functions (`batch_lock`) - while HTTP invocations, which
use neither, run alongside. One poller per mapping: concurrency 1 (ScalingConfig is not needed locally).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard_ops.local.functions import SqsEventSource
from switchboard_ops.local.sqs_events import (
    BatchOutcome,
    batch_outcome,
    delete_messages,
    receive_batch,
    sqs_event,
)

RECEIVE_WAIT_SECONDS = 1  # each ReceiveMessage long-polls at most this long
ERROR_PAUSE_SECONDS = 1.0  # after a failed receive or delete (moto stopping, say)


class Invoker(Protocol):
    def invoke(self, event: dict[str, Any]) -> Any: ...


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class SqsPoller:
    """Polls one queue for one function until `stop` is set."""

    source: SqsEventSource
    queue_url: str
    queue_arn: str
    function: Invoker
    sqs: Any
    stop: threading.Event
    region: str = "us-east-1"
    wait_seconds: int = RECEIVE_WAIT_SECONDS
    log: Callable[[str], None] = _stderr
    batch_lock: threading.Lock | None = None  # shared by the pollers of functions in one process

    @property
    def name(self) -> str:
        return f"{self.queue_url.rsplit('/', 1)[-1]} -> {self.source.function}"

    def receive(self) -> list[dict[str, Any]]:
        """Up to BatchSize messages: one long-poll, then more while the batching window is open."""
        size = max(1, self.source.batch_size)
        batch = receive_batch(
            self.sqs, self.queue_url, max_messages=min(10, size), wait_seconds=self.wait_seconds
        )
        if not batch:
            return []
        window_ends = time.monotonic() + self.source.batching_window_seconds
        while len(batch) < size and not self.stop.is_set() and time.monotonic() < window_ends:
            more = receive_batch(
                self.sqs,
                self.queue_url,
                max_messages=min(10, size - len(batch)),
                wait_seconds=self.wait_seconds,
            )
            known = {message["MessageId"] for message in batch}
            batch += [message for message in more if message["MessageId"] not in known]
        return batch

    def poll_once(self) -> BatchOutcome | None:
        """Receive a batch, invoke the function with it, delete what succeeded. None when nothing came."""
        messages = self.receive()
        if not messages:
            return None
        started = time.perf_counter()
        response: Any = None
        raised = False
        try:
            if self.batch_lock is None:
                response = self.function.invoke(sqs_event(messages, self.queue_arn, self.region))
            else:
                with self.batch_lock:
                    response = self.function.invoke(sqs_event(messages, self.queue_arn, self.region))
        except Exception:  # noqa: BLE001 - the function failed: Lambda leaves the whole batch in the queue
            raised = True
            self.log(f"[ERROR] {self.source.function} failed:\n{traceback.format_exc()}")
        outcome = batch_outcome(
            messages,
            response,
            report_batch_item_failures=self.source.report_batch_item_failures,
            raised=raised,
        )
        problems = delete_messages(self.sqs, self.queue_url, outcome.delete) if outcome.delete else []
        elapsed = (time.perf_counter() - started) * 1000
        line = f"SQS {self.name}: {len(messages)} received, {len(outcome.delete) - len(problems)} deleted"
        if outcome.failed_ids:
            line += f", {len(outcome.failed_ids)} left for retry"
        if outcome.reason:
            line += f" ({outcome.reason})"
        if problems:
            line += f"; delete failed for {', '.join(problems)}"
        self.log(f"{line} {elapsed:.0f} ms")
        return outcome

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep polling; say why this round failed
                if self.stop.is_set():
                    break
                self.log(f"[ERROR] SQS {self.name}: {exc!r}")
                self.stop.wait(ERROR_PAUSE_SECONDS)


class EventSourcePollers:
    """Every enabled SQS event source's poller, each on its own thread."""

    def __init__(self, pollers: list[SqsPoller], stop: threading.Event) -> None:
        self.pollers = pollers
        self.stop_event = stop
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for poller in self.pollers:
            thread = threading.Thread(target=poller.run, name=f"sqs:{poller.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 15.0) -> list[str]:
        """Ask every poller to stop, wait for a batch in progress to finish; names of those still busy."""
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [thread.name for thread in self._threads if thread.is_alive()]
