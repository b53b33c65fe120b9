"""The local alarm evaluator's periods on a fake metric source (switchboard_ops/local/alarm_evaluator.py):
scaled whole-second periods from the stack clock's start, M of N over them, one read per closed period."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from test_local_alarm_rules import SPEC as RULES_SPEC  # same directory

from switchboard_ops.local.alarm_evaluator import AlarmEvaluator, scaled_seconds
from switchboard_ops.local.alarm_rules import AlarmSpec

# The rules' test alarm (a Maximum over 60 s), judged 2 of 3 here and without actions
SPEC = replace(RULES_SPEC, evaluation_periods=3, datapoints_to_alarm=2, alarm_actions=(), ok_actions=())
ANCHOR = 1_800_000_000.0


class FakeMetrics:
    """get_metric_statistics over {period start (real s): Maximum}; records what was read."""

    def __init__(self, maxima: dict[float, float]) -> None:
        self.maxima = maxima
        self.reads: list[tuple[float, int]] = []
        self.states: list[str] = []

    def get_metric_statistics(self, **query: Any) -> dict[str, Any]:
        start: datetime = query["StartTime"]
        self.reads.append((start.timestamp(), query["Period"]))
        value = self.maxima.get(start.timestamp())
        if value is None:
            return {"Datapoints": []}
        return {"Datapoints": [{"Maximum": value, "Minimum": value, "Sum": value, "SampleCount": 1.0}]}

    def set_alarm_state(self, **state: Any) -> None:
        self.states.append(state["StateValue"])


def evaluator(metrics: FakeMetrics, spec: AlarmSpec = SPEC, scale: float = 60) -> AlarmEvaluator:
    return AlarmEvaluator(
        [spec], metrics, sns=None, topics={}, prefix="p", scale=scale, anchor=ANCHOR, log=lambda line: None
    )


def test_a_scaled_minute_is_a_whole_real_second_at_least():
    assert [scaled_seconds(60, scale) for scale in (1, 4, 60, 600)] == [60, 15, 1, 1]
    assert scaled_seconds(3600, 60) == 60


def test_periods_start_at_the_stack_clocks_start_and_scale_with_it():
    metrics = FakeMetrics({})

    assert evaluator(metrics, scale=4).windows(SPEC, ANCHOR + 50) == [
        (ANCHOR, ANCHOR + 15),
        (ANCHOR + 15, ANCHOR + 30),
        (ANCHOR + 30, ANCHOR + 45),
    ]


def test_two_breaching_periods_of_the_last_three_raise_the_alarm():
    metrics = FakeMetrics({ANCHOR: 1.0, ANCHOR + 1: 0.0, ANCHOR + 2: 5.0})

    changes = evaluator(metrics).evaluate_once(ANCHOR + 3.2)

    assert changes == [("TestAlarm", "INSUFFICIENT_DATA", "ALARM")]
    assert metrics.states == ["ALARM"]


def test_one_breaching_period_of_three_is_ok():
    metrics = FakeMetrics({ANCHOR + 2: 5.0})

    assert evaluator(metrics).evaluate_once(ANCHOR + 3.2) == [("TestAlarm", "INSUFFICIENT_DATA", "OK")]


def test_an_alarm_is_read_once_per_closed_period_not_at_every_evaluation():
    metrics = FakeMetrics({})
    hourly = evaluator(metrics, replace(SPEC, period=3600, evaluation_periods=1, datapoints_to_alarm=1))

    hourly.evaluate_once(ANCHOR + 60.5)  # the first scaled hour closed
    hourly.evaluate_once(ANCHOR + 61.5)  # a scaled minute later: the same hour
    hourly.evaluate_once(ANCHOR + 120.5)  # the next one closed

    assert metrics.reads == [(ANCHOR, 60), (ANCHOR + 60, 60)]
