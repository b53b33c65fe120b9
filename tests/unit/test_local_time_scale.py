"""`switchboard local up --time-scale N`: the worker's durations divided by N, at least 1 s each."""

from __future__ import annotations

import pytest

from switchboard_ops.local.environment import TIME_SCALED_VARIABLES, time_scaled
from switchboard_ops.local.functions import function_specs
from switchboard_ops.local.stack import LocalStackError, StackConfig, parse_time_scale
from switchboard_ops.local.template import load_template

TEMPLATE_WORKER = {"BACKOFF_BASE_SECONDS": "60", "BACKOFF_CAP_SECONDS": "960", "JOB_LEASE_SECONDS": "120"}


def test_at_60_a_minute_of_backoff_is_a_second():
    assert time_scaled(TEMPLATE_WORKER, 60) == {
        "BACKOFF_BASE_SECONDS": "1",
        "BACKOFF_CAP_SECONDS": "16",
        "JOB_LEASE_SECONDS": "2",
    }


def test_nothing_goes_below_one_second():
    assert set(time_scaled(TEMPLATE_WORKER, 100_000).values()) == {"1"}


def test_real_time_changes_nothing_and_other_variables_are_left_alone():
    assert time_scaled(TEMPLATE_WORKER, 1) == {}
    assert time_scaled({**TEMPLATE_WORKER, "BACKOFF_JITTER": "false", "TABLE_NAME": "t"}, 2) == {
        "BACKOFF_BASE_SECONDS": "30",
        "BACKOFF_CAP_SECONDS": "480",
        "JOB_LEASE_SECONDS": "60",
    }


def test_the_scaled_variables_are_the_worker_functions_own():
    worker = function_specs(load_template())["WorkerFunction"].environment

    assert {name: worker[name] for name in TIME_SCALED_VARIABLES} == TEMPLATE_WORKER


@pytest.mark.parametrize(("given", "scale"), [("1", 1), ("60", 60), ("2.5", 2.5), ("60.0", 60)])
def test_a_time_scale_is_a_number_of_at_least_one(given, scale):
    assert parse_time_scale(given) == scale


@pytest.mark.parametrize("given", ["0", "0.5", "-60", "fast", "", "inf", "nan"])
def test_anything_else_is_refused_with_a_message(given):
    with pytest.raises(LocalStackError, match="time scale must be a number >= 1"):
        parse_time_scale(given)


def test_the_flag_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_TIME_SCALE", "10")

    assert StackConfig.from_env().time_scale == 10
    assert StackConfig.from_env(time_scale="60").time_scale == 60
    monkeypatch.delenv("SWITCHBOARD_TIME_SCALE")
    assert StackConfig.from_env().time_scale == 1
