"""An operator's actions on reminders: cancel one, and the kill switch (pause / resume).

`pause` sets the rollout flag's `paused` (the worker then schedules nothing and the dispatcher sends
nothing), and with `cancel_pending` cancels every scheduled reminder with reason `paused`, freeing its
daily slot. `resume` clears the flag; cancelled reminders stay cancelled (a resumed stack must not send
yesterday's backlog). Both are recorded in the table and published to AlertsTopic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from switchboard.errors import ReminderNotCancellable
from switchboard.models.rollout import RolloutFlag
from switchboard.observability import logger, metrics
from switchboard.services.reminders.rollout import PAUSED

OPERATOR = "operator"  # reason: an operator cancelled the reminder


class FlagStore(Protocol):
    def read(self, *, fresh: bool = False) -> RolloutFlag: ...
    def write(self, flag: RolloutFlag) -> None: ...


class OperatorRecords(Protocol):
    def get(self, calendar: str, event_id: str) -> dict[str, Any] | None: ...
    def cancel(self, calendar: str, event_id: str, reason: str, *, now: float) -> dict[str, Any] | None: ...
    def release_slot(self, recipient: str, local_day: str, event_id: str) -> None: ...
    def scheduled(self, *, due_from: int = 0, due_until: int | None = None) -> Any: ...
    def record_audit(self, action: str, details: dict[str, Any], *, now: float) -> dict[str, Any]: ...


class ReminderOperations:
    def __init__(
        self,
        records: OperatorRecords,
        flag: FlagStore,
        alert: Callable[[str, str], None],
    ) -> None:
        self.records = records
        self.flag = flag
        self.alert = alert

    def cancel(self, calendar: str, event_id: str, *, now: float, reason: str = OPERATOR) -> dict[str, Any]:
        """Cancel one scheduled reminder; ReminderNotCancellable with its state when it is not scheduled."""
        old = self.records.cancel(calendar, event_id, reason, now=now)
        if old is None:
            found = self.records.get(calendar, event_id)
            raise ReminderNotCancellable(found.get("state") if found else None)
        if old.get("recipient") and old.get("local_day"):
            self.records.release_slot(old["recipient"], old["local_day"], event_id)
        metrics.add_metric(name="RemindersCancelled", unit="Count", value=1)
        return {**old, "state": "cancelled", "reason": reason}

    def pause(self, *, cancel_pending: bool, now: float, actor: str = "") -> dict[str, Any]:
        flag = self.flag.read(fresh=True).model_copy(update={"paused": True})
        self.flag.write(flag)  # first: nothing new is scheduled or sent while the backlog is cancelled
        cancelled = self._cancel_pending(now) if cancel_pending else 0
        return self._recorded("pause", {"cancelled": cancelled, "actor": actor}, flag, now)

    def resume(self, *, now: float, actor: str = "") -> dict[str, Any]:
        flag = self.flag.read(fresh=True).model_copy(update={"paused": False})
        self.flag.write(flag)
        return self._recorded("resume", {"actor": actor}, flag, now)

    def _cancel_pending(self, now: float) -> int:
        cancelled = 0
        for item in list(self.records.scheduled()):
            try:
                self.cancel(item["calendar"], item["event_id"], now=now, reason=PAUSED)
            except ReminderNotCancellable:
                continue  # sent or changed since the index was read: nothing pending to cancel
            cancelled += 1
        return cancelled

    def _recorded(
        self, action: str, details: dict[str, Any], flag: RolloutFlag, now: float
    ) -> dict[str, Any]:
        details = {**details, "flag": flag.model_dump(mode="json")}
        audit = self.records.record_audit(action, details, now=now)
        if action == "pause":
            metrics.add_metric(name="RemindersPaused", unit="Count", value=1)
        else:
            metrics.add_metric(name="RemindersResumed", unit="Count", value=1)
        logger.warning(f"reminders {action}d by an operator", cancelled=details.get("cancelled"))
        subject = f"Switchboard reminders {action}d"
        self.alert(subject, json.dumps({"action": action, **details, "at": audit["sk"].split("#")[0]}))
        return {"action": action, **details, "audit": audit["sk"]}
