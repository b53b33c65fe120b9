"""The template's CloudWatch alarms as the local stack evaluates them, and CloudWatch's rule for a state.

`alarm_specs` reads every AWS::CloudWatch::Alarm: single-metric alarms and metric-math alarms within
alarm_math's subset, on the namespace the stack publishes (EMF -> moto, emf.py), are evaluated locally; the
rest are listed with the reason they are not - anomaly-detection alarms (no band can be learned locally)
and AWS/* metrics the stack does not publish (queue_metrics.py samples the SQS queue depths; nothing else).

`decide` is the M-of-N rule over the last EvaluationPeriods datapoints (None = no datapoint), with
TreatMissingData: `breaching` / `notBreaching` count a missing period as bad / good; `missing` judges the
datapoints there are (none at all: INSUFFICIENT_DATA); `ignore` keeps the current state unless the
datapoints there are decide it. (CloudWatch also looks further back for missing/ignore; not done here.)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from switchboard_ops.local.alarm_math import MathError, parse
from switchboard_ops.local.queue_metrics import QUEUE_METRICS
from switchboard_ops.local.template import resources_of_type

OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"

COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
TREATMENTS = ("missing", "notBreaching", "breaching", "ignore")


@dataclass(frozen=True)
class MetricQuery:
    """One metric of a metric-math alarm (a MetricStat with its Id)."""

    id: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str


@dataclass(frozen=True)
class MathAlarm:
    expression_id: str
    expression: str
    metrics: tuple[MetricQuery, ...]
    definition: tuple[dict[str, Any], ...]  # the template's Metrics, for put_metric_alarm and the Trigger


@dataclass(frozen=True)
class AlarmSpec:
    logical_id: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str
    alarm_actions: tuple[str, ...]  # topic logical ids
    ok_actions: tuple[str, ...]
    description: str = ""
    math: MathAlarm | None = None  # a metric-math alarm: namespace, metric name, statistic unused

    def breaches(self, value: float) -> bool:
        return COMPARISONS[self.comparison][0](value, self.threshold)


@dataclass(frozen=True)
class Decision:
    state: str
    reason: str


def decide(spec: AlarmSpec, values: Sequence[float | None], current: str) -> Decision:
    """The alarm's state after one evaluation of its last EvaluationPeriods datapoints (oldest first)."""
    present = [value for value in values if value is not None]
    missing = len(values) - len(present)
    bad = sum(1 for value in present if spec.breaches(value))
    good = len(present) - bad
    if spec.treat_missing == "breaching":
        bad += missing
    elif spec.treat_missing == "notBreaching":
        good += missing
    needed = spec.datapoints_to_alarm
    shown = ", ".join("missing" if value is None else f"{value:g}" for value in values)
    words = COMPARISONS[spec.comparison][1]
    if bad + good == 0:
        if spec.treat_missing == "ignore":
            return Decision(current, "no datapoints (TreatMissingData ignore: state kept)")
        return Decision(INSUFFICIENT, f"Insufficient Data: {len(values)} datapoints were unknown.")
    if bad >= min(needed, bad + good) and (bad >= needed or spec.treat_missing == "missing"):
        return Decision(
            ALARM,
            f"Threshold Crossed: {bad} out of the last {len(values)} datapoints [{shown}] "
            f"{'was' if bad == 1 else 'were'} {words} the threshold ({spec.threshold:g}) "
            f"(minimum {needed} datapoint{'s' if needed != 1 else ''} for OK -> ALARM transition).",
        )
    if spec.treat_missing == "ignore" and good <= spec.evaluation_periods - needed:
        return Decision(current, f"not enough datapoints to decide [{shown}] (TreatMissingData ignore)")
    return Decision(
        OK,
        f"Threshold Crossed: {good} out of the last {len(values)} datapoints [{shown}] "
        f"{'was' if good == 1 else 'were'} not {words} the threshold ({spec.threshold:g}) "
        f"(minimum {needed} datapoint{'s' if needed != 1 else ''} for ALARM -> OK transition).",
    )


def aggregate(statistic: str, buckets: Sequence[dict[str, Any]]) -> float | None:
    """One period's statistic from the (sub-)buckets get_metric_statistics returned for it."""
    if not buckets:
        return None
    if statistic == "Sum":
        return float(sum(bucket["Sum"] for bucket in buckets))
    if statistic == "Maximum":
        return float(max(bucket["Maximum"] for bucket in buckets))
    if statistic == "Minimum":
        return float(min(bucket["Minimum"] for bucket in buckets))
    count = sum(bucket["SampleCount"] for bucket in buckets)
    if statistic == "SampleCount":
        return float(count)
    return float(sum(bucket["Sum"] for bucket in buckets) / count) if count else None


def _ref(value: Any, parameters: dict[str, Any]) -> Any:
    """A `!Ref` to a parameter, or a `!GetAtt X.Attr` given as parameters["X.Attr"] (a queue's name)."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return parameters.get(value["Ref"])
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return parameters.get(".".join(value["Fn::GetAtt"]))
    return value


def _topics(actions: Any) -> tuple[str, ...]:
    return tuple(action["Ref"] for action in actions or [] if isinstance(action, dict) and "Ref" in action)


def _dimensions(items: Any, parameters: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((item["Name"], _ref(item["Value"], parameters)) for item in items or [])


def math_alarm(props: dict[str, Any], parameters: dict[str, Any]) -> tuple[MathAlarm, int]:
    """A metric-math alarm's expression and metrics, and their common period; MathError if not local."""
    queries = props["Metrics"]
    returned = [query for query in queries if query.get("ReturnData", True)]
    if len(returned) != 1 or "Expression" not in returned[0]:
        raise MathError("one returned expression expected")
    parse(returned[0]["Expression"])
    metrics, periods = [], set()
    for query in queries:
        stat = query.get("MetricStat")
        if stat is None:
            continue
        metric = stat["Metric"]
        if str(metric["Namespace"]).startswith("AWS/") or stat["Stat"] not in STATISTICS:
            raise MathError(f"{metric['Namespace']} / {stat['Stat']} not evaluated locally")
        dimensions = _dimensions(metric.get("Dimensions"), parameters)
        metrics.append(
            MetricQuery(query["Id"], metric["Namespace"], metric["MetricName"], dimensions, stat["Stat"])
        )
        periods.add(int(stat["Period"]))
    if len(periods) != 1:
        raise MathError("metrics with different periods")
    math = MathAlarm(returned[0]["Id"], returned[0]["Expression"], tuple(metrics), tuple(queries))
    return math, periods.pop()


_PUBLISHED = {("AWS/SQS", name) for name in QUEUE_METRICS}


def not_evaluated_reason(props: dict[str, Any]) -> str | None:
    if "Metrics" in props:
        if "ThresholdMetricId" in props:
            return "anomaly detection (no band is learned locally)"
        try:
            math_alarm(props, {})
        except MathError as exc:
            return f"metric math ({exc})"
        return None
    namespace = str(props.get("Namespace", ""))
    if namespace.startswith("AWS/") and (namespace, props.get("MetricName")) not in _PUBLISHED:
        return f"{namespace} {props.get('MetricName')} (not published locally)"
    if "ExtendedStatistic" in props or props.get("Statistic") not in STATISTICS:
        return "percentile statistics"
    if props.get("ComparisonOperator") not in COMPARISONS:
        return str(props.get("ComparisonOperator"))
    return None


def alarm_specs(
    template: dict[str, Any], parameters: dict[str, Any]
) -> tuple[list[AlarmSpec], dict[str, str]]:
    """The alarms evaluated locally, and every other alarm's logical id -> why it is not."""
    specs: list[AlarmSpec] = []
    skipped: dict[str, str] = {}
    for logical_id, props in resources_of_type(template, "AWS::CloudWatch::Alarm").items():
        reason = not_evaluated_reason(props)
        dimensions = _dimensions(props.get("Dimensions"), parameters)
        threshold = _ref(props.get("Threshold"), parameters)
        if reason is None and (threshold is None or any(not isinstance(v, str) for _, v in dimensions)):
            reason = "a Threshold or dimension the local stack cannot resolve"
        if reason is not None:
            skipped[logical_id] = reason
            continue
        math, period = math_alarm(props, parameters) if "Metrics" in props else (None, 0)
        evaluation_periods = int(props["EvaluationPeriods"])
        specs.append(
            AlarmSpec(
                logical_id=logical_id,
                namespace=props.get("Namespace", ""),
                metric_name=math.expression_id if math else props["MetricName"],
                dimensions=dimensions,
                statistic=props.get("Statistic", ""),
                period=period if math else int(props["Period"]),
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=int(props.get("DatapointsToAlarm", evaluation_periods)),
                threshold=float(threshold),
                comparison=props["ComparisonOperator"],
                treat_missing=props.get("TreatMissingData", "missing"),
                alarm_actions=_topics(props.get("AlarmActions")),
                ok_actions=_topics(props.get("OKActions")),
                description=str(props.get("AlarmDescription", "")),
                math=math,
            )
        )
    return specs, skipped
