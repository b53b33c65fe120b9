"""The events table: one item per provider event, written once by a conditional put on provider facts."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from switchboard.dal.aws import client
from switchboard.errors import StoreUnavailable
from switchboard.models import Event, Message

RECEIVED = "RECEIVED"


def event_key(event: Event) -> dict[str, str]:
    """Idempotency key from provider facts: (provider, message id) and, for statuses, the status too."""
    pk = f"EVT#{event.provider}#{event.provider_message_id}"
    sk = "MESSAGE" if isinstance(event, Message) else f"STATUS#{event.status}"
    return {"pk": pk, "sk": sk}


def to_item(event: Event, *, source: str, received_at: float) -> dict[str, Any]:
    """The DynamoDB item (plain Python values) for a canonical event."""
    data = event.model_dump(mode="json", exclude={"raw"}, exclude_none=True)
    data = {key: value for key, value in data.items() if value not in ("", [], ())}
    return {
        **event_key(event),
        **data,
        "raw": json.dumps(event.raw, separators=(",", ":"), ensure_ascii=False),
        "source": source,
        "received_at": int(received_at * 1000),
        "job_state": RECEIVED,
        "attempts": 0,
    }


@dataclass(frozen=True)
class StoreResult:
    key: dict[str, str]
    created: bool
    job_state: str | None = None


class EventsTable:
    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = client("dynamodb")
        return self._dynamodb

    def store_if_new(
        self, event: Event, *, source: str = "webhook", received_at: float | None = None
    ) -> StoreResult:
        """One conditional put. A duplicate costs the same single call and tells us the stored job state."""
        from boto3.dynamodb.types import TypeSerializer

        item = to_item(event, source=source, received_at=time.time() if received_at is None else received_at)
        serializer = TypeSerializer()
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item={key: serializer.serialize(value) for key, value in item.items()},
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                old = exc.response.get("Item") or {}
                return StoreResult(
                    key=event_key(event), created=False, job_state=old.get("job_state", {}).get("S")
                )
            raise StoreUnavailable(
                f"DynamoDB put failed: {exc.response.get('Error', {}).get('Code')}"
            ) from exc
        return StoreResult(key=event_key(event), created=True, job_state=RECEIVED)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        from boto3.dynamodb.types import TypeDeserializer

        try:
            response = self.dynamodb.get_item(
                TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}
            )
        except ClientError as exc:
            raise StoreUnavailable(
                f"DynamoDB get failed: {exc.response.get('Error', {}).get('Code')}"
            ) from exc
        item = response.get("Item")
        if item is None:
            return None
        deserializer = TypeDeserializer()
        return {key: deserializer.deserialize(value) for key, value in item.items()}

    def query_partition(self, pk: str) -> list[dict[str, Any]]:
        """Every item under one partition key (a message and its status records), in sort-key order."""
        from boto3.dynamodb.types import TypeDeserializer

        deserializer = TypeDeserializer()
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        while True:
            try:
                response = self.dynamodb.query(**request)
            except ClientError as exc:
                raise StoreUnavailable(
                    f"DynamoDB query failed: {exc.response.get('Error', {}).get('Code')}"
                ) from exc
            items.extend(
                {key: deserializer.deserialize(value) for key, value in item.items()}
                for item in response.get("Items", [])
            )
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
