"""CloudWatch treats each dimension set as its own metric: GetMetricStatistics for {service} does not see
data put under {service, provider}. moto 5 matched any superset, so an alarm watching a dimension set
nothing emits fired locally and would never fire in AWS; the tests' moto and the local stack now match
exactly (switchboard_ops/local/cloudwatch_rules.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

SERVICE = {"Name": "service", "Value": "switchboard"}
PROVIDER = {"Name": "provider", "Value": "twilio"}


@pytest.fixture
def cloudwatch(stack: Any) -> Any:
    client = boto3.client("cloudwatch", region_name="us-east-1")
    now = datetime.fromtimestamp(time.time(), tz=UTC)
    client.put_metric_data(
        Namespace="Switchboard",
        MetricData=[
            {"MetricName": "Overdue", "Dimensions": [SERVICE, PROVIDER], "Value": 3, "Timestamp": now},
            {"MetricName": "Overdue", "Dimensions": [SERVICE], "Value": 5, "Timestamp": now},
            {
                "MetricName": "OnlyPerProvider",
                "Dimensions": [PROVIDER, SERVICE],
                "Value": 7,
                "Timestamp": now,
            },
        ],
    )
    return client


def sums(cloudwatch: Any, name: str, dimensions: list[dict[str, str]]) -> list[float]:
    points = cloudwatch.get_metric_statistics(
        Namespace="Switchboard",
        MetricName=name,
        Dimensions=dimensions,
        StartTime=datetime.fromtimestamp(time.time() - 120, tz=UTC),
        EndTime=datetime.fromtimestamp(time.time() + 120, tz=UTC),
        Period=240,
        Statistics=["Sum"],
    )["Datapoints"]
    return [point["Sum"] for point in points]


def test_a_dimension_set_sees_only_its_own_data(cloudwatch):
    assert sums(cloudwatch, "Overdue", [SERVICE]) == [5.0]
    assert sums(cloudwatch, "Overdue", [SERVICE, PROVIDER]) == [3.0]


def test_a_metric_emitted_only_with_more_dimensions_is_invisible_to_a_query_of_fewer(cloudwatch):
    assert sums(cloudwatch, "OnlyPerProvider", [SERVICE]) == []
    assert sums(cloudwatch, "OnlyPerProvider", []) == []


def test_the_order_dimensions_are_named_in_does_not_matter(cloudwatch):
    assert sums(cloudwatch, "OnlyPerProvider", [SERVICE, PROVIDER]) == [7.0]
