"""The metric-math subset the local alarm evaluator reads (switchboard_ops/local/alarm_math.py), on the
template's own expressions: missing metrics, FILL, IF, MAX([...]), and what it refuses."""

from __future__ import annotations

import pytest

from switchboard_ops.local.alarm_math import MathError, evaluate, names, parse

# The failure rate without FILL, as the template first wrote it: a metric with no datapoint leaves no value
FAILURE_RATE = "100 * (retried + exhausted) / MAX([retried + exhausted + processed, 1])"
DELIVERY_RATE = (
    "IF(FILL(delivered,0) + FILL(failed,0) >= 10,\n"
    "100 * FILL(delivered,0) / MAX([FILL(delivered,0) + FILL(failed,0), 1]), 100)"
)


def test_the_failure_rate_of_the_hour():
    value = evaluate(parse(FAILURE_RATE), {"retried": 3.0, "exhausted": 1.0, "processed": 16.0})

    assert value == 20.0


def test_a_metric_with_no_datapoint_leaves_the_expression_without_one():
    assert evaluate(parse(FAILURE_RATE), {"retried": None, "exhausted": 1.0, "processed": 16.0}) is None


def test_fill_gives_a_missing_metric_its_value():
    assert evaluate(parse(DELIVERY_RATE), {"delivered": 8.0, "failed": 4.0}) == pytest.approx(66.667, 0.001)
    assert evaluate(parse(DELIVERY_RATE), {"delivered": 12.0, "failed": None}) == 100.0


def test_if_takes_its_else_branch_below_the_minimum_volume():
    assert evaluate(parse(DELIVERY_RATE), {"delivered": 1.0, "failed": 4.0}) == 100.0


def test_max_of_a_list_skips_missing_items_and_has_none_when_all_are():
    assert evaluate(parse("MAX([a, b, 2])"), {"a": None, "b": 7.0}) == 7.0
    assert evaluate(parse("MAX([a, b])"), {"a": None, "b": None}) is None


def test_the_expression_names_its_metrics_not_its_functions():
    assert names(parse(DELIVERY_RATE)) == {"delivered", "failed"}


@pytest.mark.parametrize(
    "expression",
    ["ANOMALY_DETECTION_BAND(filled, 3)", "__import__('os')", "a.b", "a[0]", "'text'", "lambda: 1", "a +"],
)
def test_anything_outside_the_subset_is_refused(expression):
    with pytest.raises(MathError):
        parse(expression)
