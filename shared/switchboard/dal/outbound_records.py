"""Send records: one per send key, moved PENDING -> SENDING -> SENT by conditional writes (at most once).

A record found still SENDING means an earlier attempt died between the provider call and the record:
it may have been sent, so it is flagged AMBIGUOUS for review and never re-sent.
"""

from __future__ import annotations

from typing import Any

from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.table import Table
from switchboard.errors import SendFinished, SendInterrupted
from switchboard.models.outbound import SendRequest
from switchboard.models.states import SendState


def send_key(key: str) -> dict[str, str]:
    return {"pk": f"SEND#{key}", "sk": "SEND"}


class OutboundRecords(Table):
    def begin_send(self, request: SendRequest, now: float) -> dict[str, Any]:
        """Create the record if new and move it to SENDING; raises when it must not be sent now."""
        fields_of = request.model_dump(exclude_none=True)  # an SMS send's record keeps its old shape
        values = {
            ":sending": SendState.SENDING,
            ":now": int(now * 1000),
            ":one": 1,
            ":pending": SendState.PENDING,
            ":retry": SendState.RETRY,
            **{f":{name}": value for name, value in fields_of.items()},
        }
        fields = ", ".join(f"#{name} = if_not_exists(#{name}, :{name})" for name in fields_of)
        response, old = self.call(
            "update_item",
            Key=to_attribute_values(send_key(request.send_key)),
            UpdateExpression=f"SET #state = :sending, sending_at = :now, {fields}, "
            "created_at = if_not_exists(created_at, :now) ADD attempts :one",
            ConditionExpression="attribute_not_exists(#state) OR #state IN (:pending, :retry)",
            ExpressionAttributeNames={
                "#state": "state",
                **{f"#{name}": name for name in fields_of},
            },
            ExpressionAttributeValues=to_attribute_values(values),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if response is None:
            if old.get("state") == SendState.SENDING:
                raise SendInterrupted(request.send_key)
            raise SendFinished(str(old.get("state")))
        return from_item(response["Attributes"])

    def finish(self, key: str, state: str, now: float, **fields: Any) -> bool:
        """SENDING -> state, with fields (provider id, error...); False when no longer SENDING."""
        names = {"#state": "state", **{f"#{name}": name for name in fields}}
        values = {
            ":state": state,
            ":now": int(now * 1000),
            ":sending": SendState.SENDING,
            **{f":{name}": value for name, value in fields.items()},
        }
        sets = ", ".join(["#state = :state", "finished_at = :now", *(f"#{n} = :{n}" for n in fields)])
        response, _ = self.call(
            "update_item",
            Key=to_attribute_values(send_key(key)),
            UpdateExpression=f"SET {sets}",
            ConditionExpression="#state = :sending",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attribute_values(values),
        )
        return response is not None

    def flag_interrupted(self, key: str, now: float) -> None:
        """SENDING found on redelivery: may have been sent. Flag it for a person; never send again."""
        self.finish(
            key,
            SendState.AMBIGUOUS,
            now,
            needs_review=True,
            error="interrupted between provider call and record",
        )

    def get(self, key: str) -> dict[str, Any] | None:
        response, _ = self.call("get_item", Key=to_attribute_values(send_key(key)), ConsistentRead=True)
        item = (response or {}).get("Item")
        return from_item(item) if item else None
