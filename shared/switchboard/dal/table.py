"""The events table as every dal module uses it: a lazy client and conditional writes that report
"condition failed" (with the old item) instead of raising."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from switchboard.dal.aws import InjectedClient
from switchboard.dal.failures import is_condition_failure, translated
from switchboard.dal.items import from_item
from switchboard.errors import StoreUnavailable


class Table:
    dynamodb = InjectedClient("dynamodb")

    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def call(self, operation: str, **request: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(response, {}) — or (None, the old item if returned) when a condition failed."""
        with translated(StoreUnavailable, f"DynamoDB {operation}"):
            try:
                return getattr(self.dynamodb, operation)(TableName=self.table_name, **request), {}
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
                return None, from_item(exc.response.get("Item") or {})
