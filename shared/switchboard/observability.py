"""Logger, Metrics and Tracer, created once; every log line has phone numbers, e-mail addresses and message
text masked."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

NAMESPACE = "Switchboard"
# Keys whose values are message content or contact data: never logged, whatever their shape.
_SENSITIVE_KEYS = frozenset(
    {
        "body",
        "text",
        "message",
        "content",
        "reply_text",
        "email_text",
        "preview_text",
        "from",
        "to",
        "sender",
        "recipient",
        "phone",
        "raw",
    }
)
# Powertools' own record keys: never masked (a timestamp is not a phone number).
_STANDARD_KEYS = frozenset(
    {
        "level",
        "location",
        "timestamp",
        "service",
        "sampling_rate",
        "xray_trace_id",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "correlation_id",
    }
)
# "+" numbers (E.164, as Switchboard stores them) and US-style (415) 555-2671 / 415-555-2671 / 415.555.2671.
# The last two digits stay, for support look-ups.
_PHONE = re.compile(r"\+\d[\d ().-]{4,}(\d{2})|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{2}(\d{2})\b")


# An e-mail address (also inside "<...>" and URL-encoded "%40"): the local part goes, the domain stays,
# for support look-ups, as a phone number's last two digits do.
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@|%40)((?:[\w-]+\.)+[\w-]+)")


def mask_text(value: str) -> str:
    value = _EMAIL.sub(lambda match: "***@" + match.group(1), value)
    return _PHONE.sub(lambda match: "***" + (match.group(1) or match.group(2)), value)


def mask(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in _SENSITIVE_KEYS and value not in (None, ""):
        return "***"
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks every record just before it is serialized, so no call site can leak PII by accident."""

    def serialize(self, log: Any) -> str:
        masked = {
            key: value if key in _STANDARD_KEYS else mask(value, None if key == "message" else key)
            for key, value in log.items()
        }
        return super().serialize(log=masked)


logger = Logger(service="switchboard", logger_formatter=MaskingFormatter())
metrics = Metrics(namespace=NAMESPACE, service="switchboard")


def get_tracer() -> Tracer:
    """The X-Ray tracer, for functions off the webhook hot path: creating it imports aws_xray_sdk (~180 ms
    of cold start, measured by bench/ingest), which IngestFunction does without — Lambda's active
    tracing still records its invocations (docs/adr/0001)."""
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service="switchboard")
    return _tracer


_tracer: Tracer | None = None


def service_metric(name: str, value: float, unit: Any = None) -> None:
    """One metric with the service dimension only, flushed on its own (what the alarms watch), whatever
    dimensions the invocation's other metrics carry. `unit` defaults to Count."""
    _single_metric(name, value, unit)


def count_by_provider(name: str, provider: str, value: float = 1) -> None:
    """A count with a provider dimension, flushed on its own: the provider dimension must not attach to
    the invocation's other metrics, whose alarms watch the service dimension alone."""
    _single_metric(name, value, None, provider=provider)


def metric_by(name: str, value: float, unit: Any = None, **dimensions: str) -> None:
    """A metric with its own dimensions (e.g. feature=...), flushed on its own like count_by_provider."""
    _single_metric(name, value, unit, **dimensions)


def _single_metric(name: str, value: float, unit: Any, **dimensions: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name=name,
        unit=unit or MetricUnit.Count,
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": "switchboard"},
    ) as metric:
        for dimension, dimension_value in dimensions.items():
            metric.add_dimension(name=dimension, value=dimension_value)
