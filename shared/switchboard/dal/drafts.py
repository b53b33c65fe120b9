"""Drafts after the worker wrote them (in its commit, dal/contacts.py): an operator lists, approves and
rejects them; the sender ends an approved one as sent or failed. Each transition is a conditional write
(models/drafts.py has the states), so a repeated move or a redelivered send result changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.table import Table
from switchboard.errors import DraftNotFound, DraftTransitionRefused
from switchboard.models.drafts import DRAFT_SK, DraftState


class Drafts(Table):
    def get(self, draft_id: str) -> dict[str, Any]:
        response, _ = self.call("get_item", Key=to_attribute_values({"pk": draft_id, "sk": DRAFT_SK}))
        item = (response or {}).get("Item")
        if not item:
            raise DraftNotFound(draft_id)
        return from_item(item)

    def scan(self, state: str | None = None) -> Iterator[dict[str, Any]]:
        """Every draft (in `state`): a full scan, an operator's report, never a hot path."""
        values: dict[str, Any] = {":draft": DRAFT_SK}
        condition = "sk = :draft"
        if state:
            values[":state"] = state
            condition += " AND #status = :state"
        request: dict[str, Any] = {
            "FilterExpression": condition,
            "ExpressionAttributeValues": to_attribute_values(values),
        }
        if state:
            request["ExpressionAttributeNames"] = {"#status": "status"}
        return self.items("scan", **request)

    def approve(self, draft_id: str, now: float, *, by: str) -> dict[str, Any]:
        """pending_review -> approved; an approved draft stays approved (its send may be re-enqueued:
        the send key is the draft id). Sent, failed and rejected drafts are refused."""
        return self._move(
            draft_id,
            DraftState.APPROVED,
            (DraftState.PENDING_REVIEW, DraftState.APPROVED),
            "SET #status = :to, approved_by = if_not_exists(approved_by, :by), "
            "approved_at = if_not_exists(approved_at, :now)",
            {":by": by, ":now": int(now * 1000)},
        )

    def reject(self, draft_id: str, now: float, *, reason: str) -> dict[str, Any]:
        """pending_review -> rejected, with the reason."""
        return self._move(
            draft_id,
            DraftState.REJECTED,
            (DraftState.PENDING_REVIEW,),
            "SET #status = :to, rejected_at = :now, reject_reason = :reason",
            {":now": int(now * 1000), ":reason": reason[:300]},
        )

    def _move(
        self, draft_id: str, to: DraftState, allowed: tuple[DraftState, ...], expression: str, values: Any
    ) -> dict[str, Any]:
        names = {f":from{index}": state for index, state in enumerate(allowed)}
        response, old = self.update(
            {"pk": draft_id, "sk": DRAFT_SK},
            expression,
            {":to": to, **values, **names},
            condition=f"attribute_exists(pk) AND #status IN ({', '.join(names)})",
            names={"#status": "status"},
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if response is not None:
            return from_item(response["Attributes"])
        if not old:
            raise DraftNotFound(draft_id)
        raise DraftTransitionRefused(draft_id, str(old.get("status")), to)

    def finish_send(self, pk: str, state: DraftState, now: float, **fields: str) -> bool:
        """APPROVED -> `state` with `fields` (provider_message_id, error); False when not approved."""
        values: dict[str, Any] = {
            ":state": str(state),
            ":approved": str(DraftState.APPROVED),
            ":now": int(now * 1000),
            **{f":{name}": value for name, value in fields.items()},
        }
        sets = ["#status = :state", "send_finished_at = :now", *(f"#{name} = :{name}" for name in fields)]
        response, _ = self.update(
            {"pk": pk, "sk": DRAFT_SK},
            "SET " + ", ".join(sets),
            values,
            condition="#status = :approved",
            names={"#status": "status", **{f"#{name}": name for name in fields}},
        )
        return response is not None
