"""The events table: one item per provider event, written once by a conditional put on provider facts.

A record stored with a job carries `unfinished` (its shard of the sparse `UnfinishedJobs` index) until
the job reaches an end (dal/job_records.py removes it); reconciliation's stuck-job sweep queries that
index. Records stored before the index existed have no `unfinished` and are never swept.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from typing import Any

from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.raw_payloads import RawPayloads
from switchboard.dal.table import Table
from switchboard.models import CalendarEvent, Event, Message
from switchboard.models.states import JobState

UNFINISHED_INDEX = "UnfinishedJobs"  # template.yaml: HASH unfinished, RANGE received_at
# Spreads the index's write load over 4 partition-key values; the sweep queries each.
UNFINISHED_SHARDS = 4


def unfinished_shard(pk: str) -> str:
    """The `unfinished` value (the index's partition key) of a record: stable per record."""
    return f"JOB#{zlib.crc32(pk.encode()) % UNFINISHED_SHARDS}"


def unfinished_shards() -> list[str]:
    """Every partition-key value of the index: what the sweep queries."""
    return [f"JOB#{shard}" for shard in range(UNFINISHED_SHARDS)]


def event_key(event: Event) -> dict[str, str]:
    """Idempotency key from provider facts: (provider, message id) and, for statuses, the status too;
    (calendar, event id, version) for calendar events."""
    pk = f"EVT#{event.provider}#{event.provider_message_id}"
    if isinstance(event, CalendarEvent):
        return {"pk": pk, "sk": f"CAL#{event.version}"}
    sk = "MESSAGE" if isinstance(event, Message) else f"STATUS#{event.status}"
    return {"pk": pk, "sk": sk}


def to_item(event: Event, *, source: str, received_at: float, job: bool) -> dict[str, Any]:
    """The DynamoDB item (plain Python values) for a canonical event; only one with a job to run
    enters the unfinished-jobs index."""
    data = event.model_dump(mode="json", exclude={"raw"}, exclude_none=True)
    data = {key: value for key, value in data.items() if value not in ("", [], ())}
    key = event_key(event)
    item: dict[str, Any] = {
        **key,
        **data,
        "raw": json.dumps(event.raw, separators=(",", ":"), ensure_ascii=False),
        "source": source,
        "received_at": int(received_at * 1000),
        "job_state": JobState.RECEIVED,
        "attempts": 0,
    }
    if job:
        item["unfinished"] = unfinished_shard(key["pk"])
    return item


@dataclass(frozen=True)
class StoreResult:
    key: dict[str, str]
    created: bool
    job_state: str | None = None


class EventsTable(Table):
    def __init__(
        self, table_name: str, dynamodb: Any = None, *, raw_payloads: RawPayloads | None = None
    ) -> None:
        super().__init__(table_name, dynamodb)
        # Without a bucket only payloads that fit the item are storable (the CLI reads, never stores).
        self.raw_payloads = raw_payloads or RawPayloads()

    def store_if_new(
        self, event: Event, *, source: str = "webhook", received_at: float | None = None, job: bool = True
    ) -> StoreResult:
        """One conditional put. A duplicate costs the same single call and tells us the stored job state.
        `job=False`: stored without a processing job (health-check canaries). An oversized raw payload
        is put in S3 first (dal/raw_payloads.py): one more call, for those payloads only."""
        item = to_item(
            event, source=source, received_at=time.time() if received_at is None else received_at, job=job
        )
        attributes, upload = self.raw_payloads.fit(item)
        if upload is not None:
            self.raw_payloads.put(upload)
        response, old = self.call(
            "put_item",
            Item=attributes,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if response is None:
            return StoreResult(key=event_key(event), created=False, job_state=old.get("job_state"))
        return StoreResult(key=event_key(event), created=True, job_state=JobState.RECEIVED)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response, _ = self.call("get_item", Key=to_attribute_values({"pk": pk, "sk": sk}))
        item = (response or {}).get("Item")
        return from_item(item) if item else None

    def query_partition(self, pk: str) -> list[dict[str, Any]]:
        """Every item under one partition key (a message and its status records), in sort-key order."""
        return list(
            self.items(
                "query",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=to_attribute_values({":pk": pk}),
            )
        )
