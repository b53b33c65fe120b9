"""Job state on the stored event, moved only by conditional writes, plus what processing writes.

RECEIVED -> PROCESSING (claim) -> PROCESSED (commit) | FAILED (record_failure). A claim whose lease
ran out is taken over; `attempts` doubles as the fencing token, so a worker that lost its lease can
neither complete nor fail the job.

`unfinished` (the sparse UnfinishedJobs index, dal/events_table.py) leaves a record when its job
reaches an end: PROCESSED, or FAILED and exhausted (dead-lettered). A FAILED job still retrying keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from switchboard.dal.ai_usage import usage_puts
from switchboard.dal.aws import client
from switchboard.dal.events_table import unfinished_shard
from switchboard.dal.failures import error_code, is_condition_failure, translated
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.table import Table
from switchboard.errors import StoreUnavailable
from switchboard.models.plan import ConsentChange, ContactRollup, DeliveryMerge, DraftReply, Plan

RECEIVED, PROCESSING, PROCESSED, FAILED = "RECEIVED", "PROCESSING", "PROCESSED", "FAILED"


class JobMissing(Exception):
    """The job points at no stored record: it can never succeed."""


class JobAlreadyDone(Exception):
    """The record is PROCESSED: a redelivered or re-enqueued job has nothing left to do."""


class JobBusy(Exception):
    """Another worker holds a live lease on it: try again later."""


def contact_key(address: str) -> dict[str, str]:
    return {"pk": f"CONTACT#{address}", "sk": "PROFILE"}


def suppression_key(channel: str, address: str) -> dict[str, str]:
    return {"pk": f"SUPPRESSION#{channel}#{address}", "sk": "CONSENT"}


def delivery_key(provider: str, provider_message_id: str) -> dict[str, str]:
    return {"pk": f"EVT#{provider}#{provider_message_id}", "sk": "DELIVERY"}


class JobRecords(Table):
    def _update(
        self,
        key: dict[str, str],
        expression: str,
        values: dict[str, Any],
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": to_attribute_values(key),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": to_attribute_values(values),
            **extra,
        }
        if condition:
            request["ConditionExpression"] = condition
        if names:
            request["ExpressionAttributeNames"] = names
        return self.dynamodb.update_item(**request)  # type: ignore[no-any-return]

    @translated(StoreUnavailable, "claim")
    def claim(self, key: dict[str, str], now: float, lease_seconds: int) -> dict[str, Any]:
        """RECEIVED/FAILED (or PROCESSING with an expired lease) -> PROCESSING; returns the whole record."""
        try:
            response = self._update(
                key,
                "SET job_state = :processing, started_at = :now, lease_until = :lease ADD attempts :one",
                {
                    ":processing": PROCESSING,
                    ":now": int(now * 1000),
                    ":lease": int((now + lease_seconds) * 1000),
                    ":one": 1,
                    ":received": RECEIVED,
                    ":failed": FAILED,
                },
                condition="attribute_exists(pk) AND (job_state IN (:received, :failed)"
                " OR (job_state = :processing AND lease_until < :now))",
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old = from_item(exc.response.get("Item") or {})
            if not old:
                raise JobMissing(f"no record {key['pk']} / {key['sk']}") from exc
            if old.get("job_state") == PROCESSED:
                raise JobAlreadyDone(key["pk"]) from exc
            raise JobBusy(f"{key['pk']} is being processed (lease until {old.get('lease_until')})") from exc
        return from_item(response["Attributes"])

    @translated(StoreUnavailable, "record_failure")
    def record_failure(self, record: dict[str, Any], error: str, *, now: float, exhausted: bool) -> None:
        """PROCESSING -> FAILED with the error; a no-op when another worker has taken the job over.
        Exhausted: out of the unfinished-jobs index; still retrying: in it."""
        values: dict[str, Any] = {
            ":failed": FAILED,
            ":error": error[:1000],
            ":now": int(now * 1000),
            ":exhausted": exhausted,
            ":attempt": record["attempts"],
            ":processing": PROCESSING,
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
        try:
            self._update(
                {"pk": record["pk"], "sk": record["sk"]},
                expression,
                values,
                condition="job_state = :processing AND attempts = :attempt",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    @translated(StoreUnavailable, "mark_exhausted")
    def mark_exhausted(self, key: dict[str, str], error: str | None, *, now: float) -> str | None:
        """Flag the record as dead-lettered whatever state a crash left it in (never resurrects PROCESSED).
        `error` None keeps the recorded one. Returns the last error (None: no record, or PROCESSED)."""
        values: dict[str, Any] = {
            ":failed": FAILED,
            ":now": int(now * 1000),
            ":yes": True,
            ":processed": PROCESSED,
        }
        expression = "SET job_state = :failed, failed_at = :now, exhausted = :yes"
        if error is not None:
            expression += ", last_error = :error"
            values[":error"] = error[:1000]
        try:
            response = self._update(
                key,
                expression + " REMOVE lease_until, unfinished",
                values,
                condition="attribute_exists(pk) AND job_state <> :processed",
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            return None
        return from_item(response["Attributes"]).get("last_error")

    @translated(StoreUnavailable, "suppression read")
    def is_suppressed(self, channel: str, address: str) -> bool:
        response = self.dynamodb.get_item(
            TableName=self.table_name,
            Key=to_attribute_values(suppression_key(channel, address)),
            ConsistentRead=True,
        )
        return bool(from_item(response.get("Item") or {}).get("suppressed"))

    def record_consent(self, change: ConsentChange) -> bool:
        """Apply an opt-out/opt-in/help unless a newer one is already recorded; True when applied."""
        values: dict[str, Any] = {
            ":at": change.at,
            ":pk": change.message_pk,
            ":keyword": change.consent.value,
        }
        expression = "SET updated_at = :at, last_message_pk = :pk, last_keyword = :keyword"
        if change.consent.value != "help":
            expression += ", suppressed = :suppressed"
            values[":suppressed"] = change.consent.value == "opt_out"
        else:
            expression += ", last_help_at = :at"
        return self._conditional(
            suppression_key(change.channel, change.address),
            expression,
            values,
            "attribute_not_exists(updated_at) OR updated_at <= :at",
        )

    def merge_delivery(self, merge: DeliveryMerge) -> bool:
        """Move the message's delivery status forward by rank; a late or equal-rank status changes nothing."""
        if merge.rank <= 0:
            return False
        values: dict[str, Any] = {":status": merge.status, ":rank": merge.rank, ":at": merge.at}
        expression = "SET delivery_status = :status, #rank = :rank, updated_at = :at"
        if merge.error_code:
            expression += ", error_code = :code"
            values[":code"] = merge.error_code
        return self._conditional(
            delivery_key(merge.provider, merge.provider_message_id),
            expression,
            values,
            "attribute_not_exists(#rank) OR #rank < :rank",
            names={"#rank": "rank"},
        )

    @translated(StoreUnavailable, "update")
    def _conditional(
        self,
        key: dict[str, str],
        expression: str,
        values: dict[str, Any],
        condition: str,
        names: dict[str, str] | None = None,
    ) -> bool:
        try:
            self._update(key, expression, values, condition=condition, names=names)
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    @translated(StoreUnavailable, "commit")
    def commit(self, record: dict[str, Any], plan: Plan, *, now: float) -> None:
        """PROCESSING -> PROCESSED with the plan's draft, AI usage and roll-up, in one transaction."""
        actions = [self._completion(record, plan, now)]
        if not plan.draft and not plan.rollup and not plan.ai_calls:
            self._complete_alone(record, actions[0]["Update"])  # a transaction of one costs twice the writes
            return
        if plan.draft:
            actions.append(self._draft(record, plan.draft, now))
        actions += usage_puts(
            self.table_name, plan.ai_calls, job_pk=record["pk"], now=now
        )  # roll-up stays last
        if plan.rollup:
            actions.append(self._rollup(plan.rollup, now, advance=True))
        try:
            self.dynamodb.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            reasons = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
            if plan.rollup and reasons and reasons[0] == "None" and reasons[-1] == "ConditionalCheckFailed":
                # An older message than the contact's latest: count it without moving "last message" back.
                actions[-1] = self._rollup(plan.rollup, now, advance=False)
                self._transact(actions)
                return
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise JobBusy(f"{record['pk']}: lease lost before commit") from exc
            raise StoreUnavailable(f"commit failed: {error_code(exc)} {reasons}") from exc

    def _complete_alone(self, record: dict[str, Any], update: dict[str, Any]) -> None:
        try:
            self.dynamodb.update_item(**update)
        except ClientError as exc:
            if is_condition_failure(exc):
                raise JobBusy(f"{record['pk']}: lease lost before commit") from exc
            raise

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        self.dynamodb.transact_write_items(TransactItems=actions)

    def _completion(self, record: dict[str, Any], plan: Plan, now: float) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":processed": PROCESSED,
            ":now": int(now * 1000),
            ":processing": PROCESSING,
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
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": to_attribute_values({"pk": record["pk"], "sk": record["sk"]}),
            # Used by both the transaction and the single update: a finished job leaves the index.
            "UpdateExpression": "SET " + ", ".join(sets) + " REMOVE lease_until, last_error, unfinished",
            "ConditionExpression": "job_state = :processing AND attempts = :attempt",
            "ExpressionAttributeValues": to_attribute_values(values),
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return {"Update": update}

    def _draft(self, record: dict[str, Any], draft: DraftReply, now: float) -> dict[str, Any]:
        item = {
            "pk": record["pk"],
            "sk": "DRAFT",
            "to": draft.to,
            "channel": draft.channel,
            "text": draft.text,
            "status": "auto_send_requested" if draft.auto_send else "pending_review",
            "created_at": int(now * 1000),
        }
        return {"Put": {"TableName": self.table_name, "Item": to_attribute_values(item)}}

    def _rollup(self, rollup: ContactRollup, now: float, *, advance: bool) -> dict[str, Any]:
        values: dict[str, Any] = {":one": 1, ":address": rollup.address, ":now": int(now * 1000)}
        sets = ["address = :address", "updated_at = :now"]
        if advance:
            values[":at"] = rollup.at
            sets.append("last_message_at = :at")
            if rollup.inbound:
                sets.append("last_inbound_at = :at")
            if rollup.status:
                values[":status"] = rollup.status
                sets.append("#status = :status")
            if rollup.pause_followups:
                values[":paused"] = True
                sets.append("followups_paused = :paused")
        counters = "message_count :one" + (", inbound_count :one" if rollup.inbound else "")
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": to_attribute_values(contact_key(rollup.address)),
            "UpdateExpression": "SET " + ", ".join(sets) + " ADD " + counters,
            "ExpressionAttributeValues": to_attribute_values(values),
        }
        if advance:
            update["ConditionExpression"] = "attribute_not_exists(last_message_at) OR last_message_at <= :at"
        if rollup.status and advance:
            update["ExpressionAttributeNames"] = {"#status": "status"}
        return {"Update": update}


def scan_job_states(table_name: str, dynamodb: Any = None) -> Iterator[dict[str, Any]]:
    """Every record that carries a job (a full scan: an operator's report, never a hot path)."""
    paginator = (dynamodb or client("dynamodb")).get_paginator("scan")
    pages = paginator.paginate(
        TableName=table_name,
        FilterExpression="attribute_exists(job_state)",
        ProjectionExpression="pk, sk, provider, kind, job_state, attempts, exhausted, recovered",
    )
    with translated(StoreUnavailable, "scan"):
        for page in pages:
            yield from (from_item(item) for item in page.get("Items", []))
