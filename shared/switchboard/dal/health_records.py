"""Health-check history (one partition, sorted by start time, kept 30 days by TTL) and the last result."""

from __future__ import annotations

from typing import Any

from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.table import Table

PARTITION = "HEALTHCHECK"
STATE = {"pk": PARTITION, "sk": "STATE"}


def check_key(token: str) -> dict[str, str]:
    return {"pk": PARTITION, "sk": f"CHECK#{token}"}


class HealthRecords(Table):
    def start(self, token: str, *, now: float, retention_seconds: int, **fields: Any) -> None:
        item = {
            **check_key(token),
            "token": token,
            "status": "sent",
            "started_at": int(now * 1000),
            "expires_at": int(now + retention_seconds),
            **fields,
        }
        self.call("put_item", Item=to_attribute_values(item))

    def record_received(self, token: str, now: float) -> bool:
        """The canary's webhook arrived; False for an unknown token or a repeat delivery."""
        return (
            self.call(
                "update_item",
                Key=to_attribute_values(check_key(token)),
                UpdateExpression="SET received_at = :now",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(received_at)",
                ExpressionAttributeValues=to_attribute_values({":now": int(now * 1000)}),
            )[0]
            is not None
        )

    def get(self, token: str) -> dict[str, Any] | None:
        response, _ = self.call("get_item", Key=to_attribute_values(check_key(token)), ConsistentRead=True)
        item = (response or {}).get("Item")
        return from_item(item) if item else None

    def finish(self, token: str, status: str, *, now: float, latency_ms: int | None) -> bool:
        """sent -> passed | failed, once."""
        values: dict[str, Any] = {":status": status, ":now": int(now * 1000), ":sent": "sent"}
        expression = "SET #status = :status, verified_at = :now"
        if latency_ms is not None:
            expression += ", latency_ms = :latency"
            values[":latency"] = latency_ms
        return (
            self.call(
                "update_item",
                Key=to_attribute_values(check_key(token)),
                UpdateExpression=expression,
                ConditionExpression="#status = :sent",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_attribute_values(values),
            )[0]
            is not None
        )

    def swap_last_result(self, result: str, now: float) -> str | None:
        """Store the latest result; returns the one before it (None the first time)."""
        response, _ = self.call(
            "update_item",
            Key=to_attribute_values(STATE),
            UpdateExpression="SET last_result = :r, updated_at = :now",
            ExpressionAttributeValues=to_attribute_values({":r": result, ":now": int(now * 1000)}),
            ReturnValues="ALL_OLD",
        )
        return from_item((response or {}).get("Attributes") or {}).get("last_result")

    def history(self, since_token: str = "") -> list[dict[str, Any]]:
        """Checks started at or after the token's time, oldest first."""
        return list(
            self.items(
                "query",
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                ExpressionAttributeValues=to_attribute_values(
                    {":pk": PARTITION, ":low": f"CHECK#{since_token}", ":high": "CHECK#~"}
                ),
            )
        )
