"""The template's CloudWatch alarms as the local stack evaluates them, and CloudWatch's rule for a state.

`alarm_specs` reads every AWS::CloudWatch::Alarm: single-metric alarms on a namespace the stack publishes
(EMF -> moto, emf.py) are evaluated locally; the rest are listed with the reason they are not - metric
math and anomaly-detection alarms (moto evaluates neither, and no band can be learned locally) and AWS/*
metrics (moto's SQS never publishes ApproximateNumberOfMessagesVisible and the like).

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
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return parameters.get(value["Ref"])
    return value


def _topics(actions: Any) -> tuple[str, ...]:
    return tuple(action["Ref"] for action in actions or [] if isinstance(action, dict) and "Ref" in action)


def not_evaluated_reason(props: dict[str, Any]) -> str | None:
    if "Metrics" in props:
        if "ThresholdMetricId" in props:
            return "anomaly detection (no band is learned locally)"
        return "metric math"
    if str(props.get("Namespace", "")).startswith("AWS/"):
        return f"{props['Namespace']} metrics (moto publishes none)"
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
        dimensions = tuple(
            (item["Name"], _ref(item["Value"], parameters)) for item in props.get("Dimensions") or []
        )
        threshold = _ref(props.get("Threshold"), parameters)
        if reason is None and (threshold is None or any(not isinstance(v, str) for _, v in dimensions)):
            reason = "a Threshold or dimension the local stack cannot resolve"
        if reason is not None:
            skipped[logical_id] = reason
            continue
        evaluation_periods = int(props["EvaluationPeriods"])
        specs.append(
            AlarmSpec(
                logical_id=logical_id,
                namespace=props["Namespace"],
                metric_name=props["MetricName"],
                dimensions=dimensions,
                statistic=props["Statistic"],
                period=int(props["Period"]),
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=int(props.get("DatapointsToAlarm", evaluation_periods)),
                threshold=float(threshold),
                comparison=props["ComparisonOperator"],
                treat_missing=props.get("TreatMissingData", "missing"),
                alarm_actions=_topics(props.get("AlarmActions")),
                ok_actions=_topics(props.get("OKActions")),
                description=str(props.get("AlarmDescription", "")),
            )
        )
    return specs, skipped
