"""ReconcileFunction: nightly (and on demand) backfill from the providers' message lists; weekly the
integrity check; daily the digest of yesterday's numbers; and the continuation of a run that
checkpointed before its time limit.

Events: the EventBridge schedule (all configured providers, RECONCILE_LOOKBACK_HOURS); the weekly
schedule's Input {"action": "integrity", "days"?: 7}; the daily digest's
{"action": "digest", "date"?: "YYYY-MM-DD"}; a manual {"provider"?: "twilio" | [...],
"hours"?: 48} or {"resume_from": <checkpoint or run sk>}; and SQS records from the continuation queue,
each {"resume_from": <checkpoint>} (a checkpointed run hands itself on there). A continuation that finds
the lock held by another run raises, so SQS delivers it again later (and dead-letters it in the end).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.observability import get_tracer, logger, metrics
from switchboard.services.digest import default_digest
from switchboard.services.reconcile import default_reconciler


class ContinuationLocked(Exception):
    """Another run holds the lock: this continuation is retried by SQS."""


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
@get_tracer().capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from switchboard.function_settings import reconcile_settings

    event = event if isinstance(event, dict) else {}
    reconciler = default_reconciler()
    if "Records" in event:
        return {"continued": [_continue(record, context) for record in event["Records"]]}
    if event.get("action") == "integrity":
        return reconciler.integrity_check(days=int(event.get("days", 7)))
    if event.get("action") == "digest":
        return default_digest().send(event.get("date") or None)
    if event.get("action") not in (None, "reconcile"):
        raise ValueError(f"unknown action {event.get('action')!r}: use reconcile, integrity or digest")
    hours = _positive_hours(event.get("hours") or reconcile_settings().lookback_hours)
    return reconciler.run(
        event.get("provider") or None,
        timedelta(hours=hours),
        remaining_ms=context.get_remaining_time_in_millis,
        resume_from=event.get("resume_from") or None,
    )


def _continue(record: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One continuation message: resume its checkpoint (a run no longer checkpointed is skipped)."""
    try:
        checkpoint = json.loads(record["body"])["resume_from"]
    except (KeyError, TypeError, ValueError):
        # Not ours: raised, so SQS retries and then dead-letters it where the DLQ alarm shows it.
        raise ValueError(
            f"continuation message without a checkpoint: {str(record.get('body'))[:200]}"
        ) from None
    result = default_reconciler().run(
        resume_from=checkpoint, remaining_ms=context.get_remaining_time_in_millis
    )
    if result["status"] == "locked":
        raise ContinuationLocked(f"run {result.get('run')} waits for the lock; SQS retries the continuation")
    return {key: result[key] for key in ("status", "run") if key in result}


def _positive_hours(value: Any) -> float:
    """A manual event's window: a clear error for "abc", 0 or -5 instead of a bare conversion error."""
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"hours must be a number, got {value!r}") from None
    if not 0 < hours <= 24 * 31:
        raise ValueError(f"hours must be between 0 and 744, got {hours:g}")
    return hours
