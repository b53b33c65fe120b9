"""WorkerFunction: ProcessingQueue batches -> one job each, with partial batch responses."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.observability import get_tracer, logger, metrics
from switchboard.services.worker import default_worker

# A batch where every record failed is still a partial response: SQS keeps each one's own backoff.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    return default_worker().handle(
        record.body,
        receipt_handle=record.receipt_handle,
        receive_count=int(record.attributes.approximate_receive_count),
    )


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@get_tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
