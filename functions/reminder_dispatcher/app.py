"""ReminderDispatcherFunction: every minute, due reminders -> re-validated -> OutboundQueue (queued)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.observability import get_tracer, logger, metrics
from switchboard.services.reminders.dispatch import default_dispatcher


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@get_tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return default_dispatcher().run().as_dict()
