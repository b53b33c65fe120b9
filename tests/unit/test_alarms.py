"""Every alarm in template.yaml reaches AlertsTopic both ways, and the LLM alarm covers every feature."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.models.ai_usage import FEATURES
from switchboard_ops.local.template import load_template, resources_of_type

ALERTS = {"Ref": "AlertsTopic"}


def alarms() -> dict[str, dict[str, Any]]:
    return resources_of_type(load_template(), "AWS::CloudWatch::Alarm")


@pytest.mark.parametrize("name", sorted(alarms()))
def test_every_alarm_alerts_on_alarm_and_on_recovery(name):
    properties = alarms()[name]

    assert properties.get("AlarmActions") == [ALERTS], f"{name}: AlarmActions must be [!Ref AlertsTopic]"
    assert properties.get("OKActions") == [ALERTS], f"{name}: OKActions must be [!Ref AlertsTopic]"


def test_the_llm_failure_alarm_watches_every_feature_that_calls_a_model():
    metrics = alarms()["LlmFailureRateAlarm"]["Metrics"]
    watched: dict[str, set[str]] = {}
    for query in metrics:
        if "MetricStat" not in query:
            continue
        metric = query["MetricStat"]["Metric"]
        feature = {d["Name"]: d["Value"] for d in metric["Dimensions"]}["feature"]
        watched.setdefault(metric["MetricName"], set()).add(feature)
        assert query["Id"] in metrics[0]["Expression"]  # and each one is in the expression

    assert watched == {"AICalls": set(FEATURES), "AIFailures": set(FEATURES)}
