"""Iterate a slow source (a provider's paged list) one item ahead of the consumer, in a background thread:
while the caller stores page k, page k+1 is already being fetched, so a rate-limited listing and the work
on each page overlap instead of adding up.

The consumer sees the items in order and any exception the source raised, at the point it was raised.
`close()` (or leaving the `with` block) stops the thread after its current item; an item fetched but never
consumed is simply dropped (a checkpointed reconciliation refetches it from its cursor).
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Generic, TypeVar, cast

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"
_POLL_SECONDS = 0.05


class ReadAhead(Generic[T]):
    def __init__(self, source: Iterable[T], depth: int = 1, *, name: str = "read-ahead") -> None:
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=max(1, depth))
        self._stopped = threading.Event()
        # The filler runs in the caller's context (contextvars), as if the caller read the pages itself.
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._fill, source), name=name, daemon=True)
        self._thread.start()

    def _fill(self, source: Iterable[T]) -> None:
        try:
            for item in source:
                if not self._put((_ITEM, item)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put((_ERROR, exc))
            return
        self._put((_END, None))

    def _put(self, entry: tuple[str, object]) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            kind, value = self._queue.get()
            if kind == _END:
                return
            if kind == _ERROR and isinstance(value, BaseException):
                raise value
            yield cast(T, value)

    def close(self) -> None:
        self._stopped.set()

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
