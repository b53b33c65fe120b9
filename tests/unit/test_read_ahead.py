"""ReadAhead: a source iterated one item ahead in a background thread - order kept, errors raised in the
consumer, and fetching overlapped with the consumer's work."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from switchboard.read_ahead import ReadAhead


def test_items_arrive_in_order_and_the_end_ends_the_loop():
    assert list(ReadAhead(iter(range(50)))) == list(range(50))
    assert list(ReadAhead([])) == []


def test_an_error_in_the_source_is_raised_in_the_consumer_after_the_items_before_it():
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("provider answered 503 five times")

    seen: list[int] = []
    with pytest.raises(RuntimeError, match="503"):
        for item in ReadAhead(source()):
            seen.append(item)
    assert seen == [1, 2]


def test_the_next_item_is_fetched_while_the_consumer_works_on_this_one():
    fetched_second = threading.Event()

    def source() -> Iterator[str]:
        yield "page 1"
        fetched_second.set()
        yield "page 2"

    reader = iter(ReadAhead(source()))
    assert next(reader) == "page 1"
    # the consumer has not asked for page 2 yet, but it is already being fetched
    assert fetched_second.wait(5)
    assert next(reader) == "page 2"


def test_close_stops_the_source_after_at_most_one_more_item():
    produced: list[int] = []
    stopped = threading.Event()

    def source() -> Iterator[int]:
        try:
            for index in range(1000):
                produced.append(index)
                yield index
        finally:
            stopped.set()

    with ReadAhead(source()) as pages:
        for item in pages:
            if item == 2:
                break
    assert stopped.wait(5)
    assert len(produced) <= 5  # 0..2 consumed, one queued, at most one in flight
