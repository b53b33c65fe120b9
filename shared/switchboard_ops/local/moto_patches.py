"""Four corrections to moto 5's in-process AWS, for the local stack (`switchboard local up`) and the benches.

Both make a moto operation cost what it costs in AWS - constant, not proportional to the data already
stored - while keeping moto's own code and semantics. They patch classes of the `moto` package only, for as
long as their context manager is active; nothing under shared/switchboard/ or functions/ (product code)
is touched or imported. The local stack enters both for the lifetime of its moto server unless
SWITCHBOARD_MOTO_AS_SHIPPED=1 (`local_stack_patches`); the benches enter them around the figures labelled
"per-item rollback" and "moto O(1) sends", measured beside moto as shipped.

`per_item_rollback()` - DynamoDB TransactWriteItems.
  moto: `DynamoDBBackend.transact_write_items` starts with `copy.deepcopy(table)` for every action naming
  a table (a 3-action transaction copies the table 3 times), so it can roll a cancelled transaction back
  by putting the copies in place. That costs time proportional to everything stored in the table, on
  every transaction: with the single-table design (records, contacts, drafts, suppressions, deliveries in
  EventsTable) the worker's one commit per job gets slower with every job processed.
  The patch: the items the transaction names are snapshotted (a deep copy of each, or "absent") and
  exactly those are restored when moto raises; moto's whole-table copy becomes the table itself (so its
  own rollback assignment is a no-op). The switch is thread-local: only the thread inside a patched
  transaction skips the table copy. Every other deep copy moto makes is unchanged.
  Why it is safe: a transaction writes only the items it names, so restoring those items restores
  everything it changed. One difference, irrelevant here (the template has no DynamoDB stream): records a
  cancelled transaction added to a table's stream are not taken back.
  Threads: moto has no lock, and its server answers requests on several threads. As shipped, a cancelled
  transaction puts back whole tables and so undoes every write another thread made meanwhile, to any
  item; undoing by item would still undo another thread's write to a named item, and a reader could see
  a write that is then rolled back. So while the patch is active every DynamoDB request (each API call,
  TransactWriteItems included) runs alone, under one process-wide lock: transactions are isolated and
  single-item writes atomic, as in DynamoDB. moto's DynamoDB is pure Python under the GIL, so the lock
  costs next to nothing in throughput.

`constant_time_sends()` - SQS SendMessage / SendMessageBatch.
  moto: `SQSBackend.send_message` reads `queue.attributes` only to look up ContentBasedDeduplication, but
  that property computes every attribute, among them ApproximateNumberOfMessages, ...Delayed and
  ...NotVisible - three passes over every message in the queue, so a send costs time proportional to the
  queue's depth (about 12 ms per message at 2,000 queued, measured in bench/reconcile).
  The patch: those three counts read 0 while a send is under way on the reading thread, and only then.
  Why it is safe: inside a send, nothing uses those counts (the attributes dict is discarded after the
  ContentBasedDeduplication lookup); a flag per thread means GetQueueAttributes on any other thread, even
  during a send, sees the true counts.

`index_queries_read_the_index()` - DynamoDB Query on a secondary index.
  moto: `Table.query` with an IndexName walks `Table.all_items()` - every item of the table, sorted by
  its keys (Python-level comparisons) - and only then skips those without the index's partition key.
  A Query of a sparse index (UnfinishedJobs: the few jobs still on their way) so costs time proportional
  to the whole table, n log n: ~1 s a query at 22,000 items, measured in bench/reconcile, where the
  stuck-job sweep's four shard queries ran beside the paging.
  The patch: during an index Query on the calling thread, `all_items()` leaves out the items that lack
  an attribute of the index's partition key before sorting. Why it is safe: moto's own loop drops those
  items anyway (no key value, no match), and it sorts the results again by the index's keys; a Query of
  the table itself and every other caller of all_items() are unchanged.

`dimension_order()` - CloudWatch GetMetricData with two or more dimensions.
  moto: GetMetricData matches a query's dimensions to a datapoint's with `sorted(a) == sorted(b)`, but
  `Dimension.__lt__` compares a name with the other's name AND a value with the other's *name*, so the
  sort is no order at all: a query naming (provider, service) misses data put as (service, provider)
  (what Powertools' EMF emits), and `switchboard metrics daily` read n/a for numbers that were there.
  CloudWatch treats dimensions as a set. The patch: `__lt__` orders by (name, value).

Enter and leave these context managers in nested (LIFO) order; the local stack enters them once.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

AS_SHIPPED_ENV = "SWITCHBOARD_MOTO_AS_SHIPPED"

# Held by every DynamoDB request while per_item_rollback() is active (re-entrant: TransactWriteItems
# takes it again around the snapshot and moto's transaction).
_DYNAMODB_REQUESTS = threading.RLock()


def local_stack_patches(environ: Mapping[str, str] | None = None) -> ExitStack:
    """The four patches entered, unless SWITCHBOARD_MOTO_AS_SHIPPED=1 (then none), and SQS's content rules
    and CloudWatch's dimension matching (sqs_rules.py, cloudwatch_rules.py: what AWS does, so always);
    close it to leave them."""
    from switchboard_ops.local.cloudwatch_rules import cloudwatch_rules
    from switchboard_ops.local.sqs_rules import sqs_rules

    environ = os.environ if environ is None else environ
    patches = ExitStack()
    patches.enter_context(sqs_rules())
    patches.enter_context(cloudwatch_rules())
    if environ.get(AS_SHIPPED_ENV, "").strip().lower() not in {"1", "true", "yes"}:
        patches.enter_context(per_item_rollback())
        patches.enter_context(constant_time_sends())
        patches.enter_context(index_queries_read_the_index())
        patches.enter_context(dimension_order())
    return patches


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto.dynamodb.models: while `skip.tables` is set on the
    calling thread, a deep copy of a Table is the table itself; everything else is the real `copy`."""

    def __init__(self, table_type: type, skip: threading.local) -> None:
        self._table_type = table_type
        self._skip = skip

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, self._table_type) and getattr(self._skip, "tables", False):
            return value
        return copy.deepcopy(value, memo)


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, deep copy of the item or None) for every item the transaction names."""
    touched = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        name = op.get("TableName")
        if not name or name not in backend.tables:
            continue
        table = backend.tables[name]
        key = op.get("Key")
        if key is None:  # a Put names its item by the key attributes inside it
            attributes = op.get("Item", {})
            key = {
                attr: attributes[attr]
                for attr in (table.hash_key_attr, table.range_key_attr)
                if attr and attr in attributes
            }
        if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
            continue  # a malformed key: moto itself rejects the transaction before writing anything
        hash_key, range_key = backend.get_keys_value(table, key)
        touched.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return touched


def _restore(touched: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_key, range_key, before in reversed(touched):
        if before is None:
            table.delete_item(hash_key, range_key)
        elif range_key is not None:
            table.items[hash_key][range_key] = before
        else:
            table.items[hash_key] = before


@contextmanager
def per_item_rollback() -> Iterator[None]:
    """While active, moto's TransactWriteItems snapshots the named items instead of whole tables, and
    DynamoDB requests are served one at a time."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    backend = models.DynamoDBBackend
    original_transact = backend.transact_write_items
    original_call = DynamoHandler.call_action
    original_copy = models.copy
    skip = threading.local()

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _DYNAMODB_REQUESTS:
            touched = _touched(self, transact_items)
            outer = getattr(skip, "tables", False)
            skip.tables = True
            try:
                original_transact(self, transact_items)
            except Exception:
                _restore(touched)
                raise
            finally:
                skip.tables = outer

    def call_action(self: Any) -> Any:
        with _DYNAMODB_REQUESTS:
            return original_call(self)

    models.copy = _CopyWithoutTables(Table, skip)  # type: ignore[assignment]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original_call  # type: ignore[method-assign]
        backend.transact_write_items = original_transact  # type: ignore[method-assign]
        models.copy = original_copy


def _flagged(flags: threading.local, name: str, value: Any, call: Callable[[], Any]) -> Any:
    """call() with flags.<name> = value on this thread only; the outer value comes back after (re-entrant)."""
    outer = getattr(flags, name, None)
    setattr(flags, name, value)
    try:
        return call()
    finally:
        setattr(flags, name, outer)


_COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)


@contextmanager
def constant_time_sends() -> Iterator[None]:
    """While active, moto's SendMessage (and each entry of SendMessageBatch) no longer counts the queue."""
    from moto.sqs import models

    sending = threading.local()
    backend, queue = models.SQSBackend, models.Queue
    original_send = backend.send_message
    originals = {name: getattr(queue, name) for name in _COUNTS}

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _flagged(sending, "active", True, lambda: original_send(self, *args, **kwargs))

    def count(original: property) -> property:
        return property(lambda self: 0 if getattr(sending, "active", False) else original.fget(self))  # type: ignore[misc]

    backend.send_message = send_message  # type: ignore[method-assign]
    for name, original in originals.items():
        setattr(queue, name, count(original))
    try:
        yield
    finally:
        backend.send_message = original_send  # type: ignore[method-assign]
        for name, original in originals.items():
            setattr(queue, name, original)


_INDEX_NAME_POSITION = 7  # Table.query(hash_key, range_comparison, range_objs, limit, exclusive_start_key,
# scan_index_forward, projection_expressions, index_name, ...): how DynamoDBBackend.query calls it


@contextmanager
def index_queries_read_the_index() -> Iterator[None]:
    """While active, moto's Query of a secondary index looks only at the items carrying its partition key."""
    from moto.dynamodb.models.table import Table

    querying = threading.local()
    original_query, original_all_items = Table.query, Table.all_items

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name")
        if index_name is None and len(args) > _INDEX_NAME_POSITION:
            index_name = args[_INDEX_NAME_POSITION]
        index = next((each for each in self.all_indexes() if each.name == index_name), None)
        keys = (
            None
            if index is None
            else [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
        )
        return _flagged(querying, "keys", keys, lambda: original_query(self, *args, **kwargs))

    def all_items(self: Any) -> Any:
        keys = getattr(querying, "keys", None)
        if not keys:
            return original_all_items(self)
        items = []
        for stored in self.items.values():
            for item in stored.values() if self.range_key_attr else [stored]:
                if all(name in item.attrs for name in keys):
                    items.append(item)
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    with patch.object(Table, "query", query), patch.object(Table, "all_items", all_items):
        yield


@contextmanager
def dimension_order() -> Iterator[None]:
    """While active, moto's CloudWatch dimensions sort by (name, value), so their order never matters."""
    from moto.cloudwatch.models import Dimension

    def less_than(self: Any, other: Any) -> bool:
        return (self.name or "", self.value or "") < (other.name or "", other.value or "")

    with patch.object(Dimension, "__lt__", less_than):
        yield
