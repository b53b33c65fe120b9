"""Daily sums of Switchboard's CloudWatch metrics: the numbers the table never stores (rejected and
duplicate webhooks store nothing by design). One GetMetricData call for up to 500 metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from switchboard.dal.aws import InjectedClient
from switchboard.dal.failures import translated
from switchboard.errors import StoreUnavailable
from switchboard.observability import NAMESPACE

MetricKey = tuple[str, Mapping[str, str]]  # (metric name, extra dimensions beside service=switchboard)


class MetricSums:
    cloudwatch = InjectedClient("cloudwatch")

    def __init__(self, cloudwatch: Any = None) -> None:
        self._cloudwatch = cloudwatch

    def daily(self, keys: Sequence[MetricKey], day_start: datetime) -> list[float | None]:
        """Each metric's Sum over the 24 h from `day_start`; None where CloudWatch has no datapoint."""
        queries = [
            {
                "Id": f"m{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": name,
                        "Dimensions": [
                            {"Name": key, "Value": value}
                            for key, value in sorted({**dimensions, "service": "switchboard"}.items())
                        ],
                    },
                    "Period": 86400,
                    "Stat": "Sum",
                },
            }
            for index, (name, dimensions) in enumerate(keys)
        ]
        found: dict[str, float] = {}
        with translated(StoreUnavailable, "CloudWatch GetMetricData"):
            for start in range(0, len(queries), 500):
                response = self.cloudwatch.get_metric_data(
                    MetricDataQueries=queries[start : start + 500],
                    StartTime=day_start,
                    EndTime=day_start + timedelta(days=1),
                )
                for result in response.get("MetricDataResults", []):
                    if result.get("Values"):
                        found[result["Id"]] = float(sum(result["Values"]))
        return [found.get(f"m{index}") for index in range(len(keys))]
