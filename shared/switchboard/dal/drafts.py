"""A draft's end after its send: approved -> sent (with the provider's id) or -> failed (with the
provider's reason). Conditional on approved, so a redelivered send result never moves it twice."""

from __future__ import annotations

from typing import Any

from switchboard.dal.table import Table
from switchboard.models.drafts import DraftState

DRAFT_SK = "DRAFT"


class DraftRecords(Table):
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
