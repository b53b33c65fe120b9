"""Job state on the stored event, moved only by conditional writes.

RECEIVED -> PROCESSING (claim) -> PROCESSED (commit) | FAILED (record_failure). A claim whose lease
ran out is taken over; `attempts` doubles as the fencing token, so a worker that lost its lease can
neither complete nor fail the job.

`unfinished` (the sparse UnfinishedJobs index, dal/events_table.py) leaves a record when its job
reaches an end: PROCESSED, or FAILED and exhausted (dead-lettered). A FAILED job still retrying keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from switchboard.dal.ai_usage import usage_puts
from switchboard.dal.contacts import Contacts
from switchboard.dal.events_table import unfinished_shard
from switchboard.dal.items import from_item
from switchboard.dal.table import CANCELLATION_REASONS, Table
from switchboard.errors import JobAlreadyDone, JobBusy, JobMissing, StoreUnavailable
from switchboard.models.plan import Plan
from switchboard.models.states import JobState


class JobStates(Contacts):
    def claim(self, key: dict[str, str], now: float, lease_seconds: int) -> dict[str, Any]:
        """RECEIVED/FAILED (or PROCESSING with an expired lease) -> PROCESSING; returns the whole record."""
        response, old = self.update(
            key,
            "SET job_state = :processing, started_at = :now, lease_until = :lease ADD attempts :one",
            {
                ":processing": JobState.PROCESSING,
                ":now": int(now * 1000),
                ":lease": int((now + lease_seconds) * 1000),
                ":one": 1,
                ":received": JobState.RECEIVED,
                ":failed": JobState.FAILED,
            },
            condition="attribute_exists(pk) AND (job_state IN (:received, :failed)"
            " OR (job_state = :processing AND lease_until < :now))",
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        if response is not None:
            return from_item(response["Attributes"])
        if not old:
            raise JobMissing(f"no record {key['pk']} / {key['sk']}")
        if old.get("job_state") == JobState.PROCESSED:
            raise JobAlreadyDone(key["pk"])
        raise JobBusy(f"{key['pk']} is being processed (lease until {old.get('lease_until')})")

    def record_failure(self, record: dict[str, Any], error: str, *, now: float, exhausted: bool) -> None:
        """PROCESSING -> FAILED with the error; a no-op when another worker has taken the job over.
        Exhausted: out of the unfinished-jobs index; still retrying: in it."""
        values: dict[str, Any] = {
            ":failed": JobState.FAILED,
            ":error": error[:1000],
            ":now": int(now * 1000),
            ":exhausted": exhausted,
            ":attempt": record["attempts"],
            ":processing": JobState.PROCESSING,
        }
        expression = "SET job_state = :failed, last_error = :error, failed_at = :now, exhausted = :exhausted"
        if exhausted:
            expression += " REMOVE lease_until, unfinished"
        else:
            # Re-entry: a redriven job that had been exhausted (and left the index) is back in work with
            # exhausted reset here, the first state in which the sweep would consider it again. Its SQS
            # message carries it meanwhile, and a duplicate job is a no-op against the conditional claim.
            expression += ", unfinished = :shard REMOVE lease_until"
            values[":shard"] = unfinished_shard(record["pk"])
        self.update(
            {"pk": record["pk"], "sk": record["sk"]},
            expression,
            values,
            condition="job_state = :processing AND attempts = :attempt",
        )

    def mark_exhausted(self, key: dict[str, str], error: str | None, *, now: float) -> str | None:
        """Flag the record as dead-lettered whatever state a crash left it in (never resurrects PROCESSED).
        `error` None keeps the recorded one. Returns the last error (None: no record, or PROCESSED)."""
        values: dict[str, Any] = {
            ":failed": JobState.FAILED,
            ":now": int(now * 1000),
            ":yes": True,
            ":processed": JobState.PROCESSED,
        }
        expression = "SET job_state = :failed, failed_at = :now, exhausted = :yes"
        if error is not None:
            expression += ", last_error = :error"
            values[":error"] = error[:1000]
        response, _ = self.update(
            key,
            expression + " REMOVE lease_until, unfinished",
            values,
            condition="attribute_exists(pk) AND job_state <> :processed",
            ReturnValues="ALL_NEW",
        )
        if response is None:
            return None
        return from_item(response["Attributes"]).get("last_error")

    def commit(self, record: dict[str, Any], plan: Plan, *, now: float) -> None:
        """PROCESSING -> PROCESSED with the plan's draft, AI usage and roll-up, in one transaction."""
        completion = self._completion(record, plan, now)
        if not plan.draft and not plan.rollup and not plan.ai_calls and not plan.conversation:
            # A transaction of one costs twice the writes.
            response, _ = self.call("update_item", **completion)
            if response is None:
                raise JobBusy(f"{record['pk']}: lease lost before commit")
            return
        actions = [{"Update": {"TableName": self.table_name, **completion}}]
        if plan.draft:
            actions.append(self.draft_action(record, plan.draft, now))
        actions += usage_puts(self.table_name, plan.ai_calls, job_pk=record["pk"], now=now)
        if plan.conversation:
            actions.append(self.conversation_action(record, plan.conversation))
        # roll-up stays last
        if plan.rollup:
            actions.append(self.rollup_action(plan.rollup, now, advance=True))
        response, cancelled = self.call("transact_write_items", TransactItems=actions)
        if response is not None:
            return
        reasons = cancelled.get(CANCELLATION_REASONS, [])
        if plan.rollup and reasons[0] == "None" and reasons[-1] == "ConditionalCheckFailed":
            # An older message than the contact's latest: count it without moving "last message" back.
            actions[-1] = self.rollup_action(plan.rollup, now, advance=False)
            self.call("transact_write_items", TransactItems=actions)
            return
        if reasons[0] == "ConditionalCheckFailed":
            raise JobBusy(f"{record['pk']}: lease lost before commit")
        raise StoreUnavailable(f"commit failed: {reasons}")

    def _completion(self, record: dict[str, Any], plan: Plan, now: float) -> dict[str, Any]:
        """The completion's UpdateItem arguments: alone, or the transaction's first action."""
        values: dict[str, Any] = {
            ":processed": JobState.PROCESSED,
            ":now": int(now * 1000),
            ":processing": JobState.PROCESSING,
            ":attempt": record["attempts"],
        }
        sets = ["job_state = :processed", "finished_at = :now"]
        if record.get("exhausted"):  # it was dead-lettered and came back through a redrive
            sets += ["exhausted = :no", "recovered = :yes"]
            values.update({":no": False, ":yes": True})
        names: dict[str, str] = {}
        for index, (name, value) in enumerate(sorted(plan.annotations.items())):
            names[f"#a{index}"] = name
            values[f":a{index}"] = value
            sets.append(f"#a{index} = :a{index}")
        return self.update_request(
            {"pk": record["pk"], "sk": record["sk"]},
            # A finished job leaves the index.
            "SET " + ", ".join(sets) + " REMOVE lease_until, last_error, unfinished",
            values,
            "job_state = :processing AND attempts = :attempt",
            names or None,
        )


def scan_job_states(table_name: str, dynamodb: Any = None) -> Iterator[dict[str, Any]]:
    """Every record that carries a job (a full scan: an operator's report, never a hot path)."""
    return Table(table_name, dynamodb=dynamodb).items(
        "scan",
        FilterExpression="attribute_exists(job_state)",
        ProjectionExpression="pk, sk, provider, kind, job_state, attempts, exhausted, recovered, unfinished",
    )
