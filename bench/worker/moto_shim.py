"""A bench-only correction to moto's in-process DynamoDB: transaction rollback by item, not by table.

moto 5's `DynamoDBBackend.transact_write_items` starts every TransactWriteItems with
`copy.deepcopy(table)` of each table it names, so it can roll a cancelled transaction back. That costs
time proportional to everything stored in the table, on every transaction: with our single-table design
(records, contacts, drafts, suppressions, deliveries in EventsTable) the worker's one commit per job gets
slower with every job processed, which DynamoDB does not do. `per_item_rollback()` keeps moto's own code
and semantics, but snapshots only the items the transaction names (a deep copy of each, or "absent")
and restores exactly those when the transaction fails. The whole-table copy becomes the same object
(so moto's own rollback assignment is a no-op).

Used only for the figure labelled "moto per-item rollback"; the figure measured with moto as shipped is
reported beside it. Nothing under shared/ or functions/ is touched.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto.dynamodb.models: tables are not copied, all else is."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, self._table_type) else copy.deepcopy(value, memo)


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
    """While active, moto's TransactWriteItems snapshots the named items instead of whole tables."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    shim = _CopyWithoutTables(Table)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        touched = _touched(self, transact_items)
        models.copy = shim  # type: ignore[assignment]
        try:
            original(self, transact_items)
        except Exception:
            _restore(touched)
            raise
        finally:
            models.copy = copy

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]
