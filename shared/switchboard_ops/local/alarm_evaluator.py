"""The local stack's CloudWatch alarm evaluation (moto stores alarms and metrics but never evaluates).

The template's alarms are created in moto (`provision_alarms`), so describe_alarms lists them. Every
scaled minute the evaluator reads each locally evaluated alarm's last EvaluationPeriods periods with
get_metric_statistics, applies alarm_rules.decide, and on a state change records it with
set_alarm_state and publishes CloudWatch's notification (the JSON AWS sends, subject `ALARM: "<name>" in
US East (N. Virginia)`) to the alarm's AlarmActions / OKActions topics.

Time scale, one rule for the whole loop: every duration a metric's life depends on is divided by
SWITCHBOARD_TIME_SCALE - the schedules (schedules.StackClock), the CallbackWatch's overdue threshold
(environment.time_scaled, CALLBACK_OVERDUE_SECONDS, at least its settings' floor of 30 s), an alarm's
Period and the evaluation minute (here: whole real seconds, at least 1, because moto keeps metric time in
real seconds). The periods start at the stack clock's start, where the rate schedules are anchored, so a
scaled-minute metric lands once per scaled-minute period.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from switchboard_ops.local import alarm_math
from switchboard_ops.local.alarm_rules import INSUFFICIENT, AlarmSpec, aggregate, decide

EVALUATION_SECONDS = 60  # CloudWatch evaluates every minute
REGION_NAMES = {"us-east-1": "US East (N. Virginia)"}


def scaled_seconds(seconds: float, scale: float) -> int:
    """A CloudWatch duration on the local clock: whole real seconds, at least 1."""
    return max(1, round(seconds / scale))


def alarm_name(prefix: str, spec: AlarmSpec) -> str:
    return f"{prefix}-{spec.logical_id}"


def provision_alarms(cloudwatch: Any, prefix: str, specs: list[AlarmSpec], topics: dict[str, str]) -> None:
    """The evaluated alarms as CloudFormation would create them (state INSUFFICIENT_DATA)."""
    for spec in specs:
        metric: dict[str, Any] = (
            {"Metrics": [_metric_query(query) for query in spec.math.definition]}
            if spec.math
            else {
                "Namespace": spec.namespace,
                "MetricName": spec.metric_name,
                "Dimensions": [{"Name": name, "Value": value} for name, value in spec.dimensions],
                "Statistic": spec.statistic,
                "Period": spec.period,
            }
        )
        cloudwatch.put_metric_alarm(
            AlarmName=alarm_name(prefix, spec),
            AlarmDescription=spec.description[:1024],
            **metric,
            EvaluationPeriods=spec.evaluation_periods,
            DatapointsToAlarm=spec.datapoints_to_alarm,
            Threshold=spec.threshold,
            ComparisonOperator=spec.comparison,
            TreatMissingData=spec.treat_missing,
            AlarmActions=[topics[t] for t in spec.alarm_actions if t in topics],
            OKActions=[topics[t] for t in spec.ok_actions if t in topics],
        )
        # moto starts a new alarm in OK; CloudWatch starts it in INSUFFICIENT_DATA until it is evaluated.
        cloudwatch.set_alarm_state(
            AlarmName=alarm_name(prefix, spec),
            StateValue=INSUFFICIENT,
            StateReason="Unchecked: Initial alarm creation",
        )


def _metric_query(query: dict[str, Any]) -> dict[str, Any]:
    """A template Metrics entry as the API takes it (the template's YAML is already the API's shape)."""
    return {
        key: value
        for key, value in query.items()
        if key in ("Id", "Expression", "Label", "ReturnData", "MetricStat")
    }


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def notification(
    name: str, spec: AlarmSpec, old: str, new: str, reason: str, *, region: str, account: str, at: float
) -> dict[str, Any]:
    """The message CloudWatch publishes to an alarm's SNS actions."""
    return {
        "AlarmName": name,
        "AlarmDescription": spec.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": _iso(at),
        "NewStateValue": new,
        "NewStateReason": reason,
        "StateChangeTime": _iso(at),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
        "OldStateValue": old,
        "OKActions": list(spec.ok_actions),
        "AlarmActions": list(spec.alarm_actions),
        "InsufficientDataActions": [],
        "Trigger": _trigger(spec),
    }


def _trigger(spec: AlarmSpec) -> dict[str, Any]:
    common = {
        "Period": spec.period,
        "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.datapoints_to_alarm,
        "ComparisonOperator": spec.comparison,
        "Threshold": spec.threshold,
        "TreatMissingData": spec.treat_missing,
        "EvaluateLowSampleCountPercentile": "",
    }
    if spec.math:
        return {"Metrics": [_metric_query(query) for query in spec.math.definition], **common}
    return {
        "MetricName": spec.metric_name,
        "Namespace": spec.namespace,
        "StatisticType": "Statistic",
        "Statistic": spec.statistic.upper(),
        "Unit": None,
        "Dimensions": [{"value": value, "name": name} for name, value in spec.dimensions],
        **common,
    }


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class AlarmEvaluator:
    """Evaluates `specs` every scaled minute on its own thread; `evaluate_once(now)` is one round."""

    specs: list[AlarmSpec]
    cloudwatch: Any
    sns: Any
    topics: dict[str, str]  # logical id -> ARN
    prefix: str
    scale: float
    anchor: float  # real epoch seconds where every alarm's periods start (the stack clock's start)
    region: str = "us-east-1"
    account: str = "123456789012"
    before_read: Callable[[], Any] = lambda: None  # e.g. let the EMF publisher catch up
    log: Callable[[str], None] = _stderr
    clock: Callable[[], float] = time.time
    states: dict[str, str] = field(default_factory=dict)
    # The end of the last period each alarm was judged on: its state can change only when another closes.
    judged_until: dict[str, float] = field(default_factory=dict)
    stop_event: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.anchor = float(int(self.anchor))  # moto reads metric time in whole seconds
        for spec in self.specs:
            self.states.setdefault(spec.logical_id, INSUFFICIENT)

    @property
    def tick_seconds(self) -> int:
        return scaled_seconds(EVALUATION_SECONDS, self.scale)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alarms", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        tick = self.tick_seconds
        grace = min(0.5, tick / 4)  # a datapoint flushed at a period's end still counts in it
        rounds = 1
        while not self.stop_event.wait(max(0.0, self.anchor + rounds * tick + grace - self.clock())):
            try:
                self.evaluate_once(self.clock())
            except Exception as exc:  # noqa: BLE001 - one bad round must not end the evaluation
                self.log(f"[WARN] alarm evaluation: {type(exc).__name__}: {exc}")
            rounds = int((self.clock() - self.anchor) // tick) + 1

    def windows(self, spec: AlarmSpec, now: float) -> list[tuple[float, float]]:
        """The alarm's last EvaluationPeriods complete periods before `now` (real epoch seconds)."""
        period = scaled_seconds(spec.period, self.scale)
        end = self.anchor + ((now - self.anchor) // period) * period
        return [(end - (n + 1) * period, end - n * period) for n in reversed(range(spec.evaluation_periods))]

    def datapoint(self, spec: AlarmSpec, start: float, end: float) -> float | None:
        """The alarm's value for one period: its metric's statistic, or its expression over its metrics."""
        if end <= self.anchor:
            return None
        if spec.math is None:
            return self._statistic(
                spec.namespace, spec.metric_name, spec.dimensions, spec.statistic, start, end
            )
        values = {
            query.id: self._statistic(
                query.namespace, query.metric_name, query.dimensions, query.statistic, start, end
            )
            for query in spec.math.metrics
        }
        result = alarm_math.evaluate(alarm_math.parse(spec.math.expression), values)
        return None if result is None or result != result else result  # NaN (x / 0): no datapoint

    def _statistic(
        self,
        namespace: str,
        metric_name: str,
        dimensions: tuple[tuple[str, str], ...],
        statistic: str,
        start: float,
        end: float,
    ) -> float | None:
        response = self.cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=metric_name,
            Dimensions=[{"Name": name, "Value": value} for name, value in dimensions],
            StartTime=datetime.fromtimestamp(max(start, self.anchor), tz=UTC),
            EndTime=datetime.fromtimestamp(end, tz=UTC),
            Period=int(end - start),
            Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
        )
        return aggregate(statistic, response.get("Datapoints", []))

    def evaluate_once(self, now: float) -> list[tuple[str, str, str]]:
        """One round over every alarm: the (logical id, old, new) state changes it made."""
        self.before_read()
        changes = []
        for spec in self.specs:
            windows = self.windows(spec, now)
            if self.judged_until.get(spec.logical_id) == windows[-1][1]:
                continue  # no period closed since (an hour-long alarm is read once a scaled hour, not minute)
            self.judged_until[spec.logical_id] = windows[-1][1]
            values = [self.datapoint(spec, start, end) for start, end in windows]
            old = self.states[spec.logical_id]
            decision = decide(spec, values, old)
            if decision.state != old:
                self.states[spec.logical_id] = decision.state
                self._record(spec, old, decision.state, decision.reason, now)
                changes.append((spec.logical_id, old, decision.state))
        return changes

    def _record(self, spec: AlarmSpec, old: str, new: str, reason: str, at: float) -> None:
        name = alarm_name(self.prefix, spec)
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=new, StateReason=reason[:1023])
        self.log(f"ALARM {spec.logical_id}: {old} -> {new} ({reason})")
        actions = {"ALARM": spec.alarm_actions, "OK": spec.ok_actions}.get(new, ())
        if old == INSUFFICIENT and new == "OK":
            # Every alarm starts INSUFFICIENT_DATA and most settle on OK at once: CloudWatch would send
            # those OK notifications too, but locally they would bury the alerts inbox at every start.
            actions = ()
        message = notification(name, spec, old, new, reason, region=self.region, account=self.account, at=at)
        region_name = REGION_NAMES.get(self.region, self.region)
        for topic in actions:
            if topic in self.topics:
                self.sns.publish(
                    TopicArn=self.topics[topic],
                    Subject=f'{new}: "{name}" in {region_name}'[:100],
                    Message=json.dumps(message),
                )
