"""The events table as every dal module uses it: a lazy client and conditional writes that report
"condition failed" (with the old item) instead of raising."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from switchboard.dal.aws import InjectedClient
from switchboard.dal.failures import error_code, is_condition_failure, translated
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.errors import StoreUnavailable
from switchboard.retry import exponential

BATCH_GET_LIMIT = 100  # BatchGetItem's maximum keys per request
_ATTEMPTS = 5  # unprocessed keys are asked again; a table that keeps throttling raises
CANCELLATION_REASONS = "CancellationReasons"  # the "old item" a cancelled transaction reports


def _cancelled_by_condition(exc: ClientError) -> list[str] | None:
    """A transaction cancelled because one of its conditions failed: each action's reason code."""
    if error_code(exc) != "TransactionCanceledException":
        return None
    reasons = [str(reason.get("Code")) for reason in exc.response.get(CANCELLATION_REASONS, [])]
    return reasons if "ConditionalCheckFailed" in reasons else None


class Table:
    dynamodb = InjectedClient("dynamodb")

    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def call(self, operation: str, **request: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(response, {}) — or (None, the old item if returned) when a condition failed; a transaction
        cancelled by a condition gives (None, {"CancellationReasons": [code per action]})."""
        with translated(StoreUnavailable, f"DynamoDB {operation}"):
            try:
                if operation != "transact_write_items":  # a transaction names a table per action
                    request = {"TableName": self.table_name, **request}
                return getattr(self.dynamodb, operation)(**request), {}
            except ClientError as exc:
                if is_condition_failure(exc):
                    return None, from_item(exc.response.get("Item") or {})
                reasons = _cancelled_by_condition(exc)
                if reasons is None:
                    raise
                return None, {CANCELLATION_REASONS: reasons}

    def pages(self, operation: str, **request: Any) -> Iterator[dict[str, Any]]:
        """Each response of a Query or Scan ("query"/"scan") through `call`, following LastEvaluatedKey to
        the end: DynamoDB ends a page at 1 MB whatever its Limit, so one call is not all of it.
        For a caller that counts (Select=COUNT) or works a page at a time; `items` for the rest."""
        while True:
            response, _ = self.call(operation, **request)
            page = response or {}
            yield page
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def items(self, operation: str, **request: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated Query or Scan (`pages`), as plain values."""
        for page in self.pages(operation, **request):
            yield from (from_item(item) for item in page.get("Items", []))

    def update(
        self,
        key: dict[str, str],
        expression: str,
        values: dict[str, Any],
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        **extra: Any,
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """One UpdateItem through `call`: (response, {}) or (None, old item) when the condition failed."""
        return self.call(
            "update_item", **self.update_request(key, expression, values, condition, names), **extra
        )

    @staticmethod
    def update_request(
        key: dict[str, str],
        expression: str,
        values: dict[str, Any],
        condition: str | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """An UpdateItem's arguments without the table name (a transaction's Update adds it)."""
        request: dict[str, Any] = {
            "Key": to_attribute_values(key),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": to_attribute_values(values),
        }
        if condition:
            request["ConditionExpression"] = condition
        if names:
            request["ExpressionAttributeNames"] = names
        return request

    def read_many(
        self,
        keys: Sequence[dict[str, str]],
        *,
        projection: str | None = None,
        rounds: int = _ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Items by (pk, sk), read consistently, 100 keys a BatchGetItem; missing keys are absent.
        UnprocessedKeys are asked again after a short exponential pause, `rounds` times in all; a table
        that keeps throttling raises StoreUnavailable. `projection` must name pk and sk."""
        unique = list({(k["pk"], k["sk"]): k for k in keys}.values())
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            pending = [
                to_attribute_values({"pk": k["pk"], "sk": k["sk"]})
                for k in unique[start : start + BATCH_GET_LIMIT]
            ]
            for attempt in range(rounds):
                request: dict[str, Any] = {"Keys": pending, "ConsistentRead": True}
                if projection:
                    request["ProjectionExpression"] = projection
                with translated(StoreUnavailable, "DynamoDB batch_get_item"):
                    response = self.dynamodb.batch_get_item(RequestItems={self.table_name: request})
                for item in response.get("Responses", {}).get(self.table_name, []):
                    plain = from_item(item)
                    found[(str(plain["pk"]), str(plain["sk"]))] = plain
                pending = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
                if not pending:
                    break
                if attempt < rounds - 1:
                    sleep(exponential(attempt + 1, 0.05, 2.0))  # 0.05, 0.1, 0.2 ... s
            else:
                raise StoreUnavailable("DynamoDB batch_get_item: keys left unprocessed")
        return found
