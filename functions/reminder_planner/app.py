"""ReminderPlannerFunction: every 15 minutes, re-validate the reminders of every recipient whose local
day has just begun (services/reminders/daily.py). Any event runs it: the schedule's, or a manual one."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.observability import get_tracer, logger, metrics
from switchboard.services.reminders.daily import default_planner


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@get_tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return default_planner().run(now=time.time())
