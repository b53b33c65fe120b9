"""The local stack's CloudWatch: a metric the product prints as EMF (Powertools) reaches moto, and the
alarm evaluator turns it into the template alarm's state in moto and CloudWatch's notification on
AlertsTopic (switchboard_ops/local/emf.py, alarm_evaluator.py)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from switchboard.dal.metric_sums import MetricSums
from switchboard.observability import service_metric
from switchboard_ops.local.alarm_evaluator import AlarmEvaluator, provision_alarms
from switchboard_ops.local.alarm_rules import AlarmSpec, alarm_specs
from switchboard_ops.local.emf import EmfCapture
from switchboard_ops.local.environment import template_parameters
from switchboard_ops.local.moto_patches import dimension_order
from switchboard_ops.local.provision import alerts_inbox
from switchboard_ops.local.queue_metrics import QueueMetrics, queue_names
from switchboard_ops.local.template import load_template

PREFIX = "switchboard-local"
OVERDUE = f"{PREFIX}-CallbacksOverdueAlarm"


@pytest.fixture
def emf(stack: Any) -> Iterator[Callable[[], EmfCapture]]:
    """Puts the capture in front of stdout when the test calls it (pytest swaps stdout between phases)."""
    started: list[EmfCapture] = []

    def start() -> EmfCapture:
        started.append(EmfCapture(boto3.client("cloudwatch", region_name="us-east-1")))
        return started[-1]

    yield start
    for capture in started:
        capture.close()


def evaluator_of(stack: Any, spec: AlarmSpec, *, scale: float, started_ago: float) -> AlarmEvaluator:
    """An evaluator of one alarm, provisioned in moto, whose stack clock started `started_ago` s ago."""
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    provision_alarms(cloudwatch, PREFIX, [spec], stack.topics)
    return AlarmEvaluator(
        [spec],
        cloudwatch=cloudwatch,
        sns=boto3.client("sns", region_name="us-east-1"),
        topics=stack.topics,
        prefix=PREFIX,
        scale=scale,
        anchor=time.time() - started_ago,
        log=lambda line: None,
    )


@pytest.fixture
def evaluator(stack: Any) -> AlarmEvaluator:
    template = load_template()
    specs, _ = alarm_specs(template, template_parameters(template, {}))
    provision_alarms(boto3.client("cloudwatch", region_name="us-east-1"), PREFIX, specs, stack.topics)
    [spec] = [spec for spec in specs if spec.logical_id == "CallbacksOverdueAlarm"]
    return evaluator_of(stack, spec, scale=1, started_ago=1)


def inbox(stack: Any) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=f"{stack.prefix}-alerts-inbox")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def state(name: str) -> str:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    return str(cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])


def test_a_metric_printed_as_emf_is_stored_in_cloudwatch_with_its_dimensions(stack, emf):
    # Given the local stack's EMF capture in front of stdout
    capture = emf()
    # When product code emits a metric through Powertools
    service_metric("CallbacksOverdue", 4)
    assert capture.publisher.flush(5.0)

    # Then CloudWatch (moto) has it, under the service dimension the alarm watches
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    found = cloudwatch.get_metric_statistics(
        Namespace="Switchboard",
        MetricName="CallbacksOverdue",
        Dimensions=[{"Name": "service", "Value": "switchboard"}],
        StartTime=datetime.fromtimestamp(time.time() - 60, tz=UTC),
        EndTime=datetime.fromtimestamp(time.time() + 60, tz=UTC),
        Period=120,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert [point["Maximum"] for point in found] == [4.0]


def test_the_template_alarms_exist_in_moto_in_insufficient_data(stack, evaluator):
    assert state(OVERDUE) == "INSUFFICIENT_DATA"


def test_an_overdue_count_raises_the_alarm_with_cloudwatchs_notification_on_alerts_topic(
    stack, evaluator, emf
):
    # Given the alerts inbox subscribed to AlertsTopic, and the EMF capture
    alerts_inbox(boto3.Session(region_name="us-east-1"), stack)
    capture = emf()
    # When the callback watch reports overdue sends and the period closes
    service_metric("CallbacksOverdue", 3)
    capture.publisher.flush(5.0)
    changes = evaluator.evaluate_once(evaluator.anchor + 61)

    # Then the alarm is ALARM in moto and its notification is on AlertsTopic
    assert changes == [("CallbacksOverdueAlarm", "INSUFFICIENT_DATA", "ALARM")]
    assert state(OVERDUE) == "ALARM"
    [alert] = inbox(stack)
    assert alert["Subject"] == f'ALARM: "{OVERDUE}" in US East (N. Virginia)'
    message = json.loads(alert["Message"])
    assert (message["AlarmName"], message["OldStateValue"], message["NewStateValue"]) == (
        OVERDUE,
        "INSUFFICIENT_DATA",
        "ALARM",
    )
    assert message["Trigger"]["MetricName"] == "CallbacksOverdue" and message["StateChangeTime"]
    assert "[3] was greater than the threshold (0)" in message["NewStateReason"]


def test_the_alarm_returns_to_ok_with_an_ok_notification_when_the_count_is_zero_again(stack, evaluator, emf):
    # Given periods [T, T+60) and [T+60, T+120) with T 90 s ago: 3 overdue in the first, 0 in the second
    alerts_inbox(boto3.Session(region_name="us-east-1"), stack)
    capture = emf()
    evaluator.anchor = float(int(time.time() - 90))
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(
        Namespace="Switchboard",
        MetricData=[
            {
                "MetricName": "CallbacksOverdue",
                "Dimensions": [{"Name": "service", "Value": "switchboard"}],
                "Timestamp": datetime.fromtimestamp(evaluator.anchor + 10, tz=UTC),
                "Value": 3.0,
            }
        ],
    )
    service_metric("CallbacksOverdue", 0)
    capture.publisher.flush(5.0)
    assert evaluator.evaluate_once(evaluator.anchor + 60.5) == [
        ("CallbacksOverdueAlarm", "INSUFFICIENT_DATA", "ALARM")
    ]

    # When the second period closes (callbacks flow again)
    changes = evaluator.evaluate_once(evaluator.anchor + 120.5)

    # Then it is OK, and AlertsTopic got the OK notification after the ALARM one
    assert changes == [("CallbacksOverdueAlarm", "ALARM", "OK")]
    assert state(OVERDUE) == "OK"
    subjects = [alert["Subject"] for alert in inbox(stack)]
    assert sorted(subjects) == sorted(
        [f'ALARM: "{OVERDUE}" in US East (N. Virginia)', f'OK: "{OVERDUE}" in US East (N. Virginia)']
    )


def test_settling_on_ok_at_start_sends_nothing(stack, evaluator):
    alerts_inbox(boto3.Session(region_name="us-east-1"), stack)

    changes = evaluator.evaluate_once(evaluator.anchor + 61)

    assert changes == [("CallbacksOverdueAlarm", "INSUFFICIENT_DATA", "OK")]
    assert state(OVERDUE) == "OK"
    assert inbox(stack) == []


def _failure_rate_hour(stack: Any, metrics: dict[str, float]) -> tuple[Any, list[Any]]:
    """ProcessingFailureRateAlarm created in moto, the given metrics emitted in one scaled hour, and the
    state changes when that hour closes."""
    template = load_template()
    specs, _ = alarm_specs(template, template_parameters(template, {}))
    [spec] = [spec for spec in specs if spec.logical_id == "ProcessingFailureRateAlarm"]
    evaluator = evaluator_of(stack, spec, scale=60, started_ago=90)  # the hour is a minute
    cloudwatch = evaluator.cloudwatch
    at = datetime.fromtimestamp(evaluator.anchor + 10, tz=UTC)
    service = [{"Name": "service", "Value": "switchboard"}]
    cloudwatch.put_metric_data(
        Namespace="Switchboard",
        MetricData=[
            {"MetricName": name, "Dimensions": service, "Timestamp": at, "Value": value}
            for name, value in metrics.items()
        ],
    )
    return cloudwatch, evaluator.evaluate_once(evaluator.anchor + 60.5)


def test_a_metric_math_alarm_fires_on_its_expression(stack):
    # Given an hour with 3 retried, 0 exhausted and 7 processed jobs
    # When the scaled hour closes
    cloudwatch, changes = _failure_rate_hour(
        stack, {"JobsRetried": 3.0, "JobsExhausted": 0.0, "JobsProcessed": 7.0}
    )

    # Then 100 * (3 + 0) / 10 = 30 % > 20 %: ALARM, recorded in moto with the expression's value
    assert changes == [("ProcessingFailureRateAlarm", "INSUFFICIENT_DATA", "ALARM")]
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[f"{PREFIX}-ProcessingFailureRateAlarm"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    assert "[30] was greater than the threshold (20)" in alarm["StateReason"]


def test_the_failure_rate_alarm_fires_on_retries_alone_when_nothing_was_exhausted(stack):
    # Given an hour with retries and processed jobs but no exhausted one: the worker emits no
    # JobsExhausted at all then (a count is emitted only when it happens), as in AWS
    # When the scaled hour closes
    _, changes = _failure_rate_hour(stack, {"JobsRetried": 3.0, "JobsProcessed": 7.0})

    # Then the missing metric counts as 0 (FILL), not as a missing rate: 30 % > 20 %, ALARM
    assert changes == [("ProcessingFailureRateAlarm", "INSUFFICIENT_DATA", "ALARM")]


def test_a_dead_lettered_job_raises_the_dead_letter_alarm_from_the_sampled_queue_depth(stack):
    # Given the DLQ alarm evaluated on the local queue's name, and one job in the processing DLQ
    template = load_template()
    parameters = template_parameters(template, queue_names(stack.queues))
    specs, _ = alarm_specs(template, parameters)
    [spec] = [spec for spec in specs if spec.logical_id == "ProcessingDeadLetterAlarm"]
    evaluator = evaluator_of(stack, spec, scale=60, started_ago=6)  # the 5-minute period is 5 s
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.send_message(QueueUrl=stack.queues["ProcessingDeadLetterQueue"], MessageBody="{}")
    sampler = QueueMetrics(sqs, evaluator.cloudwatch, stack.queues)

    # When the queue depth is sampled in the period and the period closes
    sampler.publish(evaluator.anchor + 1)
    changes = evaluator.evaluate_once(evaluator.anchor + 5.5)

    # Then the alarm is ALARM: Maximum 1 visible message > 0
    assert changes == [("ProcessingDeadLetterAlarm", "INSUFFICIENT_DATA", "ALARM")]
    assert state(f"{PREFIX}-ProcessingDeadLetterAlarm") == "ALARM"


def put_duplicate_as_emf_orders_it(day_start: datetime) -> None:
    """DuplicateWebhooks with the dimensions in Powertools' EMF order: service, then provider."""
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(
        Namespace="Switchboard",
        MetricData=[
            {
                "MetricName": "DuplicateWebhooks",
                "Dimensions": [
                    {"Name": "service", "Value": "switchboard"},
                    {"Name": "provider", "Value": "twilio"},
                ],
                "Timestamp": day_start + timedelta(hours=1),
                "Value": 2.0,
            }
        ],
    )


@pytest.mark.parametrize(("patched", "expected"), [(True, [2.0]), (False, [None])])
def test_daily_sums_find_emf_metrics_whatever_their_dimension_order_with_the_patch(stack, patched, expected):
    # Given a metric stored with its dimensions in EMF's order (moto as the local stack runs it, or not)
    day_start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    put_duplicate_as_emf_orders_it(day_start)

    # When `metrics daily`'s dal sums it (its query names the dimensions sorted: provider, service)
    with dimension_order() if patched else contextlib.nullcontext():
        sums = MetricSums(boto3.client("cloudwatch", region_name="us-east-1")).daily(
            [("DuplicateWebhooks", {"provider": "twilio"})], day_start
        )

    # Then the patched moto finds it, as CloudWatch (dimensions are a set); moto as shipped does not
    assert sums == expected
