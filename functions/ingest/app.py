"""IngestFunction: POST /webhooks/{provider+} — verify, store once, enqueue, then acknowledge."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.config import ingest_settings
from switchboard.errors import DependencyUnavailable, WebhookRejected
from switchboard.http_api import error_response, json_response, request_from_event, route_name
from switchboard.observability import logger, metrics
from switchboard.services.ingest import default_service, record_rejection


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = request_from_event(event, ingest_settings().public_base_url)
        result = default_service().ingest(request)
    except WebhookRejected as rejected:
        record_rejection(rejected, route_name(event))
        return error_response(rejected)
    except DependencyUnavailable as unavailable:
        # Not acknowledged: the provider retries and the idempotent put absorbs the repeat.
        logger.error("dependency unavailable; webhook not acknowledged", error=str(unavailable))
        metrics.add_metric(name="IngestFailures", unit="Count", value=1)
        return error_response(unavailable)
    except Exception as unexpected:  # noqa: BLE001 - a trace goes to the log, never to the caller
        logger.exception("unexpected ingest failure")
        metrics.add_metric(name="IngestFailures", unit="Count", value=1)
        return error_response(unexpected)
    return json_response(200, result.as_dict())
