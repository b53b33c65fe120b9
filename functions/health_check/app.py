"""HealthCheckFunction: hourly, start a canary; from HealthVerifyQueue (delayed), judge it; every minute,
count sends whose status callback is overdue ({"action": "callbacks"})."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.observability import get_tracer, logger, metrics
from switchboard.services.callback_watch import default_callback_watch
from switchboard.services.health import default_health_check
from switchboard.sqs_batch import run_batch


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@get_tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    if "Records" in event:  # the verification step, 2 minutes after the start
        return run_batch(event, context, lambda: default_health_check().handle_verification)
    if event.get("action") == "callbacks":
        return default_callback_watch().check()
    return default_health_check().start()  # the schedule, or `switchboard health run`
