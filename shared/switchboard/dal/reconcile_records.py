"""Reconciliation's records in the events table: batched existence checks, the run lock, run records
(pk RECONCILE, sk RUN#<started iso>), the stuck-job query and the per-day stored-count scan.

Stuck jobs come from the sparse UnfinishedJobs index (only records whose job has not reached an end
carry its key, `unfinished`; dal/events_table.py), so the nightly sweep reads what is unfinished, not
the table. Records stored before that index existed have no `unfinished` and are never swept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from switchboard.dal.events_table import UNFINISHED_INDEX, unfinished_shards
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.table import Table
from switchboard.models.states import JobState

RECONCILE_PK = "RECONCILE"
LOCK_SK = "LOCK"
RUN_PREFIX = "RUN#"

Key = tuple[str, str]


class ReconcileRecords(Table):
    def __init__(
        self,
        table_name: str,
        dynamodb: Any = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_unprocessed_rounds: int = 8,
    ) -> None:
        super().__init__(table_name, dynamodb)
        self._sleep = sleep
        self._max_rounds = max_unprocessed_rounds

    # --- existence -------------------------------------------------------------------------------

    def existing_keys(self, keys: Iterable[dict[str, str]]) -> set[Key]:
        """The (pk, sk) pairs among `keys` that are stored: keys only, through Table.read_many (bounded
        retries of UnprocessedKeys with backoff; giving up raises StoreUnavailable)."""
        found = self.read_many(
            list(keys), projection="pk, sk", rounds=self._max_rounds + 1, sleep=self._sleep
        )
        return set(found)

    # --- the run lock ------------------------------------------------------------------------------

    def acquire_lock(self, owner: str, *, now: float, ttl_seconds: int, handed_to: str | None = None) -> bool:
        """One conditional put: taken when absent or expired (a crashed run frees it at expiry), or when
        its holder is `handed_to` (a checkpoint passes the lock on to its continuation's token)."""
        condition = "attribute_not_exists(pk) OR expires_at < :now"
        values: dict[str, Any] = {":now": int(now)}
        if handed_to:
            condition += " OR #owner = :handed_to"
            values[":handed_to"] = handed_to
        response, _ = self.call(
            "put_item",
            Item=to_attribute_values(
                {
                    "pk": RECONCILE_PK,
                    "sk": LOCK_SK,
                    "owner": owner,
                    "acquired_at": int(now),
                    "expires_at": int(now + ttl_seconds),
                }
            ),
            ConditionExpression=condition,
            ExpressionAttributeValues=to_attribute_values(values),
            **({"ExpressionAttributeNames": {"#owner": "owner"}} if handed_to else {}),
        )
        return response is not None

    def release_lock(self, owner: str) -> bool:
        response, _ = self.call(
            "delete_item",
            Key=to_attribute_values({"pk": RECONCILE_PK, "sk": LOCK_SK}),
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues=to_attribute_values({":owner": owner}),
        )
        return response is not None

    # --- run records -------------------------------------------------------------------------------

    def put_run(self, run: dict[str, Any]) -> None:
        """The run record (sk RUN#<started iso>): at start, after each page, at a checkpoint, at the end;
        its fields are ReconcileRun.to_record()'s (models/reconcile.py maps them both ways)."""
        self.call("put_item", Item=to_attribute_values(_decimals({**run, "pk": RECONCILE_PK})))

    def get_run(self, sk: str) -> dict[str, Any] | None:
        response, _ = self.call("get_item", Key=to_attribute_values({"pk": RECONCILE_PK, "sk": sk}))
        item = (response or {}).get("Item")
        return from_item(item) if item else None

    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest runs first."""
        response, _ = self.call(
            "query",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :run)",
            ExpressionAttributeValues=to_attribute_values({":pk": RECONCILE_PK, ":run": RUN_PREFIX}),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_item(item) for item in (response or {}).get("Items", [])]

    # --- reading many records ------------------------------------------------------------------------

    def stuck_jobs(self, *, received_before_ms: int, now: float) -> Iterator[dict[str, Any]]:
        """Event records whose job never finished: RECEIVED, or PROCESSING with an expired lease;
        received before the cutoff; never dead-lettered (exhausted) ones. One paginated Query of the
        UnfinishedJobs index per shard; items carry the index's projection (keys, received_at, provider,
        kind, provider_message_id, job_state, lease_until, exhausted; no body: canaries are not indexed)."""
        for shard in unfinished_shards():
            yield from self.items(
                "query",
                IndexName=UNFINISHED_INDEX,
                KeyConditionExpression="unfinished = :shard AND received_at < :cutoff",
                FilterExpression=(
                    "(job_state = :received OR (job_state = :processing AND lease_until < :now))"
                    " AND (attribute_not_exists(exhausted) OR exhausted = :no)"
                ),
                ExpressionAttributeValues=to_attribute_values(
                    {
                        ":shard": shard,
                        ":cutoff": received_before_ms,
                        ":received": JobState.RECEIVED,
                        ":processing": JobState.PROCESSING,
                        ":now": int(now * 1000),  # lease_until is in milliseconds, like received_at
                        ":no": False,
                    }
                ),
            )

    def stored_message_days(self, provider: str, since_iso: str) -> dict[str, int]:
        """{"YYYY-MM-DD": stored message count} for `provider` from `since_iso` on (occurred_at, UTC).
        A full-table scan on purpose: the weekly integrity check counts what is stored, whatever its state."""
        counts: dict[str, int] = {}
        for item in self.items(
            "scan",
            FilterExpression="begins_with(pk, :prefix) AND sk = :message AND occurred_at >= :since",
            ProjectionExpression="occurred_at",
            ExpressionAttributeValues=to_attribute_values(
                {":prefix": f"EVT#{provider}#", ":message": "MESSAGE", ":since": since_iso}
            ),
        ):
            day = str(item.get("occurred_at", ""))[:10]
            counts[day] = counts.get(day, 0) + 1
        return counts


def _decimals(value: Any) -> Any:
    """DynamoDB takes no floats: durations and hours go in as Decimals (read back as floats)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(item) for item in value]
    return value
