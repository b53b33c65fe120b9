"""ReconcileFunction: nightly (and on demand) backfill from the providers' message lists; weekly the
integrity check.

Events: the EventBridge schedule (all configured providers, RECONCILE_LOOKBACK_HOURS); the weekly
schedule's Input {"action": "integrity", "days"?: 7}; a manual {"provider"?: "twilio" | [...],
"hours"?: 48} or {"resume_from": <checkpoint or run sk>}.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.observability import get_tracer, logger, metrics
from switchboard.services.reconcile import default_reconciler


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@get_tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from switchboard.function_settings import reconcile_settings

    event = event if isinstance(event, dict) else {}
    reconciler = default_reconciler()
    if event.get("action") == "integrity":
        return reconciler.integrity_check(days=int(event.get("days", 7)))
    if event.get("action") not in (None, "reconcile"):
        raise ValueError(f"unknown action {event.get('action')!r}: use reconcile or integrity")
    hours = _positive_hours(event.get("hours") or reconcile_settings().lookback_hours)
    return reconciler.run(
        event.get("provider") or None,
        timedelta(hours=hours),
        remaining_ms=context.get_remaining_time_in_millis,
        resume_from=event.get("resume_from") or None,
    )


def _positive_hours(value: Any) -> float:
    """A manual event's window: a clear error for "abc", 0 or -5 instead of a bare conversion error."""
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"hours must be a number, got {value!r}") from None
    if not 0 < hours <= 24 * 31:
        raise ValueError(f"hours must be between 0 and 744, got {hours:g}")
    return hours
