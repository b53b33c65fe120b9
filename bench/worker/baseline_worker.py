"""The baseline: WorkerFunction's pipeline as a Powertools user would wrap it.

A `BatchProcessor` over the SQS batch (partial responses, as ours), and for each record a function
decorated with Powertools `@idempotent_function` (DynamoDBPersistenceLayer on its own idempotency table,
keyed on the job's pk + sk) that:
1. GetItems the stored record (strongly consistent, as ours' claim returns it);
2. runs the SAME pure plan: `plan_event` from switchboard.services.processing.pipeline, with the same
   PipelineConfig and RulesClassifier, and `JobRecords.is_suppressed` for the auto-send check;
3. applies it with plain writes: JobRecords' public `record_consent` / `merge_delivery` (the same
   conditional updates ours makes), an UpdateItem of the contact roll-up (conditional on the message
   being the newest; a late one is counted without moving "last message" back, as ours does), a Put of
   the draft, and last an UpdateItem of the record to PROCESSED with the plan's annotations.
Exactly-once is Powertools' (an INPROGRESS item before the work, COMPLETED after), not a claim and one
transaction. Same Logger, Metrics and Tracer set-up as WorkerFunction and one log line and metric per
job, so the comparison is about that design, not about observability.

Favourable to the baseline: one DynamoDB client, shared with the persistence layer (Powertools' default
would create a second).

Loaded by file, like functions/worker/app.py: module-level clients and names from the environment
(BASELINE_WORKER_TABLE, BASELINE_WORKER_IDEMPOTENCY_TABLE).
"""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.job_records import JobRecords
from switchboard.models import Job
from switchboard.models.plan import ContactRollup, DraftReply
from switchboard.services.processing.classify import RulesClassifier
from switchboard.services.processing.pipeline import PipelineConfig, plan_event

logger = Logger(service="baseline")
metrics = Metrics(namespace="SwitchboardBaseline", service="baseline")
tracer = Tracer(service="baseline")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

TABLE = os.environ["BASELINE_WORKER_TABLE"]
dynamodb = boto3.client("dynamodb")
records = JobRecords(TABLE, dynamodb=dynamodb)
config = PipelineConfig()
classifier = RulesClassifier()

persistence = DynamoDBPersistenceLayer(
    table_name=os.environ["BASELINE_WORKER_IDEMPOTENCY_TABLE"], boto3_client=dynamodb
)
idempotency = IdempotencyConfig(event_key_jmespath="[pk, sk]", raise_on_no_idempotency_key=True)


class RecordMissing(Exception):
    """The job points at no stored record (SQS's redrive policy dead-letters it after maxReceiveCount)."""


def _millis() -> int:
    return int(time.time() * 1000)


def _update(key: dict[str, str], sets: list[str], values: dict[str, Any], **extra: Any) -> None:
    dynamodb.update_item(
        TableName=TABLE,
        Key=to_attribute_values(key),
        UpdateExpression="SET " + ", ".join(sets) + extra.pop("suffix", ""),
        ExpressionAttributeValues=to_attribute_values(values),
        **extra,
    )


def _roll_up(rollup: ContactRollup) -> None:
    """The contact's counters and latest message; a message older than the latest only counts."""
    values: dict[str, Any] = {":one": 1, ":now": _millis(), ":at": rollup.at}
    sets = ["updated_at = :now", "last_message_at = :at"]
    names: dict[str, str] = {}
    if rollup.inbound:
        sets.append("last_inbound_at = :at")
    if rollup.status:
        values[":status"] = rollup.status
        names["#status"] = "status"
        sets.append("#status = :status")
    if rollup.pause_followups:
        values[":paused"] = True
        sets.append("followups_paused = :paused")
    counters = " ADD message_count :one" + (", inbound_count :one" if rollup.inbound else "")
    try:
        _update(
            records.contact_key(rollup.address),
            sets,
            values,
            suffix=counters,
            ConditionExpression="attribute_not_exists(last_message_at) OR last_message_at <= :at",
            **({"ExpressionAttributeNames": names} if names else {}),
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        _update(
            records.contact_key(rollup.address),
            ["updated_at = :now"],
            {":one": 1, ":now": _millis()},
            suffix=counters,
        )


def _put_draft(pk: str, draft: DraftReply) -> None:
    item = {
        "pk": pk,
        "sk": "DRAFT",
        "to": draft.to,
        "channel": draft.channel,
        "text": draft.text,
        "status": "auto_send_requested" if draft.auto_send else "pending_review",
        "created_at": _millis(),
    }
    dynamodb.put_item(TableName=TABLE, Item=to_attribute_values(item))


def _mark_processed(key: dict[str, str], annotations: dict[str, Any]) -> None:
    sets = ["job_state = :processed", "finished_at = :now"]
    values: dict[str, Any] = {":processed": "PROCESSED", ":now": _millis()}
    names: dict[str, str] = {}
    for index, (name, value) in enumerate(sorted(annotations.items())):
        names[f"#a{index}"] = name
        values[f":a{index}"] = value
        sets.append(f"#a{index} = :a{index}")
    _update(key, sets, values, **({"ExpressionAttributeNames": names} if names else {}))


@idempotent_function(data_keyword_argument="job", config=idempotency, persistence_store=persistence)
def process_job(job: dict[str, Any]) -> dict[str, Any]:
    key = {"pk": job["pk"], "sk": job["sk"]}
    response = dynamodb.get_item(TableName=TABLE, Key=to_attribute_values(key), ConsistentRead=True)
    record = from_item(response.get("Item") or {})
    if not record:
        raise RecordMissing(f"no record {key['pk']} / {key['sk']}")
    plan = plan_event(record, config, classifier, records.is_suppressed)
    if plan.consent:
        records.record_consent(plan.consent)
    if plan.delivery:
        records.merge_delivery(plan.delivery)
    if plan.rollup:
        _roll_up(plan.rollup)
    if plan.draft:
        _put_draft(key["pk"], plan.draft)
    _mark_processed(key, plan.annotations)
    return {"pk": key["pk"], "outcome": "processed", **plan.annotations}


def record_handler(record: SQSRecord) -> dict[str, Any]:
    job = Job.model_validate_json(record.body)  # the same validated job model ours reads
    result = process_job(job=job.model_dump())
    logger.info("job processed", pk=job.pk, **{k: v for k, v in result.items() if k != "pk"})
    metrics.add_metric(name="JobsProcessed", unit=MetricUnit.Count, value=1)
    return result


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
