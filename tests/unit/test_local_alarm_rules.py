"""The local alarm evaluator's rule (switchboard_ops/local/alarm_rules.py): CloudWatch's M of N datapoints,
each comparison, each TreatMissingData, and which of the template's alarms the local stack evaluates."""

from __future__ import annotations

from dataclasses import replace

import pytest

from switchboard_ops.local.alarm_rules import (
    ALARM,
    INSUFFICIENT,
    OK,
    AlarmSpec,
    aggregate,
    alarm_specs,
    decide,
)
from switchboard_ops.local.environment import template_parameters
from switchboard_ops.local.queue_metrics import queue_names
from switchboard_ops.local.template import load_template

SPEC = AlarmSpec(
    logical_id="TestAlarm",
    namespace="Switchboard",
    metric_name="Things",
    dimensions=(("service", "switchboard"),),
    statistic="Maximum",
    period=60,
    evaluation_periods=1,
    datapoints_to_alarm=1,
    threshold=0.0,
    comparison="GreaterThanThreshold",
    treat_missing="notBreaching",
    alarm_actions=("AlertsTopic",),
    ok_actions=("AlertsTopic",),
)
THREE_OF_FIVE = replace(SPEC, evaluation_periods=5, datapoints_to_alarm=3)


def test_one_breaching_datapoint_of_one_raises_the_alarm_and_says_why():
    decision = decide(SPEC, [2.0], OK)

    assert decision.state == ALARM
    assert "1 out of the last 1 datapoints [2] was greater than the threshold (0)" in decision.reason


def test_a_datapoint_at_the_threshold_does_not_breach_greater_than():
    assert decide(SPEC, [0.0], ALARM).state == OK


@pytest.mark.parametrize(
    ("comparison", "value", "state"),
    [
        ("GreaterThanThreshold", 10.0, OK),
        ("GreaterThanThreshold", 10.5, ALARM),
        ("GreaterThanOrEqualToThreshold", 10.0, ALARM),
        ("GreaterThanOrEqualToThreshold", 9.5, OK),
        ("LessThanThreshold", 10.0, OK),
        ("LessThanThreshold", 9.5, ALARM),
        ("LessThanOrEqualToThreshold", 10.0, ALARM),
        ("LessThanOrEqualToThreshold", 10.5, OK),
    ],
)
def test_each_comparison_against_the_threshold(comparison, value, state):
    spec = replace(SPEC, comparison=comparison, threshold=10.0)

    assert decide(spec, [value], INSUFFICIENT).state == state


def test_three_of_five_needs_three_breaching_datapoints():
    assert decide(THREE_OF_FIVE, [1, 0, 1, 0, 0], OK).state == OK
    assert decide(THREE_OF_FIVE, [1, 0, 1, 0, 1], OK).state == ALARM


def test_missing_as_breaching_counts_toward_m_of_n():
    spec = replace(THREE_OF_FIVE, treat_missing="breaching")

    assert decide(spec, [1, None, None, 0, 0], OK).state == ALARM
    assert decide(spec, [None, None, None, None, None], OK).state == ALARM


def test_missing_as_not_breaching_counts_as_good():
    spec = replace(THREE_OF_FIVE, treat_missing="notBreaching")

    assert decide(spec, [1, None, 1, None, None], ALARM).state == OK
    assert decide(spec, [None] * 5, INSUFFICIENT).state == OK


def test_missing_with_no_datapoint_at_all_is_insufficient_data():
    spec = replace(THREE_OF_FIVE, treat_missing="missing")

    assert decide(spec, [None] * 5, OK).state == INSUFFICIENT


def test_missing_judges_the_datapoints_there_are():
    # AWS's table for 3 of 5: one breaching datapoint and the rest missing is ALARM
    spec = replace(THREE_OF_FIVE, treat_missing="missing")

    assert decide(spec, [None, None, 1, None, None], OK).state == ALARM
    assert decide(spec, [None, None, 0, None, None], ALARM).state == OK


def test_ignore_keeps_the_state_until_the_datapoints_decide():
    spec = replace(THREE_OF_FIVE, treat_missing="ignore")

    assert decide(spec, [None] * 5, ALARM).state == ALARM
    assert decide(spec, [None, None, 0, None, None], ALARM).state == ALARM
    assert decide(spec, [0, 0, 0, None, None], ALARM).state == OK
    assert decide(spec, [1, 1, 1, None, None], OK).state == ALARM


def test_statistics_combine_the_buckets_of_one_period():
    buckets = [
        {"SampleCount": 2.0, "Sum": 3.0, "Minimum": 1.0, "Maximum": 2.0},
        {"SampleCount": 1.0, "Sum": 6.0, "Minimum": 6.0, "Maximum": 6.0},
    ]

    assert [aggregate(stat, buckets) for stat in ("Sum", "Maximum", "Minimum", "SampleCount", "Average")] == [
        9.0,
        6.0,
        1.0,
        3.0,
        3.0,
    ]
    assert aggregate("Sum", []) is None


def test_the_template_callbacks_overdue_alarm_is_evaluated_with_its_parameter_threshold():
    template = load_template()
    specs, skipped = alarm_specs(template, template_parameters(template, {}))

    overdue = next(spec for spec in specs if spec.logical_id == "CallbacksOverdueAlarm")
    assert (overdue.metric_name, overdue.statistic, overdue.period, overdue.threshold) == (
        "CallbacksOverdue",
        "Maximum",
        60,
        0.0,
    )
    assert overdue.dimensions == (("service", "switchboard"),)
    assert overdue.alarm_actions == overdue.ok_actions == ("AlertsTopic",)
    assert "CallbacksOverdueAlarm" not in skipped


def test_alarms_the_stack_cannot_evaluate_are_listed_with_why():
    template = load_template()
    specs, skipped = alarm_specs(template, template_parameters(template, {}))

    assert skipped["InboundTwilioVolumeAlarm"].startswith("anomaly detection")
    assert (
        skipped["ProcessingStaleJobsAlarm"] == "AWS/SQS ApproximateAgeOfOldestMessage (not published locally)"
    )
    # a queue's name comes from the stack (!GetAtt): without it, the alarm is not evaluated, and says why
    assert skipped["ProcessingDeadLetterAlarm"] == "a Threshold or dimension the local stack cannot resolve"
    every_alarm = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert {spec.logical_id for spec in specs} | set(skipped) == every_alarm


def test_the_template_metric_math_alarms_are_evaluated_over_their_metrics_period():
    template = load_template()
    specs = {spec.logical_id: spec for spec in alarm_specs(template, template_parameters(template, {}))[0]}

    for name in ("ProcessingFailureRateAlarm", "DeliveryRateAlarm", "OptOutRateAlarm", "LlmFailureRateAlarm"):
        assert specs[name].math is not None and specs[name].period == 3600, name
    delivery = specs["DeliveryRateAlarm"].math
    assert delivery is not None
    assert {query.id: query.metric_name for query in delivery.metrics} == {
        "delivered": "MessagesDelivered",
        "failed": "MessagesUndelivered",
    }


def test_dead_letter_queue_alarms_are_evaluated_on_the_queue_the_stack_named():
    template = load_template()
    names = queue_names({"ProcessingDeadLetterQueue": "http://127.0.0.1:4566/123456789012/local-PDLQ"})
    specs, _ = alarm_specs(template, template_parameters(template, names))

    [dlq] = [spec for spec in specs if spec.logical_id == "ProcessingDeadLetterAlarm"]
    assert (dlq.namespace, dlq.metric_name, dlq.dimensions) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        (("QueueName", "local-PDLQ"),),
    )
