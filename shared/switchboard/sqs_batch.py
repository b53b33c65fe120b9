"""SQS batches through Powertools' BatchProcessor: one call per record, partial batch responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext


class RecordHandler(Protocol):
    def __call__(self, body: str, *, receipt_handle: str, receive_count: int) -> str: ...


def run_batch(
    event: dict[str, Any], context: LambdaContext, handle: Callable[[], RecordHandler]
) -> PartialItemFailureResponse:
    """`handle()` gives the service's per-record method: returning acks a record, raising retries it."""

    def record_handler(record: SQSRecord) -> str:
        return handle()(
            record.body,
            receipt_handle=record.receipt_handle,
            receive_count=int(record.attributes.approximate_receive_count),
        )

    # One processor per batch (cheap): the local stack runs several consumers in one process.
    # A batch where every record failed is still a partial response: each record keeps its own backoff.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
