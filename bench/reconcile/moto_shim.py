"""A bench-only correction to moto's in-process SQS: SendMessage / SendMessageBatch in constant time.

moto 5's `SQSBackend.send_message` reads `queue.attributes` only to look up ContentBasedDeduplication,
but that property computes every attribute, among them ApproximateNumberOfMessages, ...Delayed and
...NotVisible - three passes over every message in the queue. A send therefore costs time proportional to
the queue's depth (about 12 ms per message at 2,000 queued in this bench, measured), which SQS does not
do. Inside `constant_time_sends()` those three counts read 0 while a send is under way (and only then),
so a send costs what the rest of moto's code costs. Nothing else changes.

Used only for the scenario labelled "moto O(1) sends"; the same scenario with moto as shipped is
reported beside it. Nothing under shared/ or functions/ is touched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)


@contextmanager
def constant_time_sends() -> Iterator[None]:
    from moto.sqs import models

    state = threading.local()
    backend, queue = models.SQSBackend, models.Queue
    original_send = backend.send_message
    originals = {name: getattr(queue, name) for name in _COUNTS}

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        state.sending = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            state.sending = False

    def count(original: property) -> property:
        return property(lambda self: 0 if getattr(state, "sending", False) else original.fget(self))  # type: ignore[misc]

    backend.send_message = send_message  # type: ignore[method-assign]
    for name, original in originals.items():
        setattr(queue, name, count(original))
    try:
        yield
    finally:
        backend.send_message = original_send  # type: ignore[method-assign]
        for name, original in originals.items():
            setattr(queue, name, original)
