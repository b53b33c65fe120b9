"""`switchboard local up --time-scale N`: the worker's durations and the canary's timeout divided by N, at
least 1 s each; and the values only the local stack gives its functions (the sandbox, the canary)."""

from __future__ import annotations

import pytest

from switchboard_ops.local.environment import (
    TIME_SCALED_VARIABLES,
    function_environment,
    sandbox_environment,
    time_scaled,
)
from switchboard_ops.local.functions import function_specs
from switchboard_ops.local.provision import StackResources
from switchboard_ops.local.stack import LocalStackError, StackConfig, parse_time_scale
from switchboard_ops.local.template import load_template

TEMPLATE_WORKER = {"BACKOFF_BASE_SECONDS": "60", "BACKOFF_CAP_SECONDS": "960", "JOB_LEASE_SECONDS": "120"}
TEMPLATE_HEALTH = {"CANARY_TIMEOUT_SECONDS": "120"}
TEMPLATE_CALLBACKS = {"CALLBACK_OVERDUE_SECONDS": "120"}


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


def test_the_scaled_variables_are_the_worker_and_health_check_functions_own():
    specs = function_specs(load_template())
    worker, health = specs["WorkerFunction"].environment, specs["HealthCheckFunction"].environment
    merged = {**worker, **health}

    assert {name: merged[name] for name in TIME_SCALED_VARIABLES} == {
        **TEMPLATE_WORKER,
        **TEMPLATE_HEALTH,
        **TEMPLATE_CALLBACKS,
    }


def test_the_callback_overdue_threshold_scales_down_to_its_settings_floor_of_30_seconds():
    # Given the template's 120 s overdue threshold
    # When the stack runs 4x and 60x faster
    # Then it is 30 s at 4 (in step with the scaled schedule and alarm period), and 30 s at 60 (the floor
    # HealthSettings enforces), never below
    assert time_scaled(TEMPLATE_CALLBACKS, 4) == {"CALLBACK_OVERDUE_SECONDS": "30"}
    assert time_scaled(TEMPLATE_CALLBACKS, 2) == {"CALLBACK_OVERDUE_SECONDS": "60"}
    assert time_scaled(TEMPLATE_CALLBACKS, 60) == {"CALLBACK_OVERDUE_SECONDS": "30"}


def test_at_60_the_two_minute_canary_is_judged_after_two_seconds():
    assert time_scaled(TEMPLATE_HEALTH, 60) == {"CANARY_TIMEOUT_SECONDS": "2"}
    assert time_scaled(TEMPLATE_HEALTH, 3600) == {"CANARY_TIMEOUT_SECONDS": "1"}


def resources() -> StackResources:
    queue = "http://127.0.0.1:4566/123456789012/switchboard-local-{}"
    names: tuple[str, ...] = ("ProcessingQueue", "ProcessingDeadLetterQueue", "OutboundQueue")
    names += ("OutboundDeadLetterQueue", "HealthVerifyQueue", "HealthVerifyDeadLetterQueue")
    return StackResources(
        prefix="switchboard-local",
        tables={"EventsTable": "switchboard-local-EventsTable"},
        buckets={"RawPayloadBucket": "switchboard-local-rawpayloadbucket"},
        queues={name: queue.format(name) for name in names},
        queue_arns={name: f"arn:aws:sqs:us-east-1:123456789012:{name}" for name in names},
        topics={"AlertsTopic": "arn:aws:sns:us-east-1:123456789012:switchboard-local-AlertsTopic"},
        secrets={"WebhookSecrets": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"},
    )


def test_the_functions_reach_the_sandbox_and_the_local_api_without_knowing_it():
    local = sandbox_environment(
        sandbox_url="http://127.0.0.1:3001",
        api_url="http://127.0.0.1:3000",
        canary_from="+14155550100",
        canary_to="+14155550199",
    )
    template = load_template()
    parameters = {name: str(props.get("Default", "")) for name, props in template["Parameters"].items()}

    environment, notes = function_environment(
        function_specs(template).values(), resources(), parameters, local=local
    )

    assert {name: environment[name] for name in local} == {
        "TWILIO_API_BASE_URL": "http://127.0.0.1:3001",
        "OPENPHONE_API_BASE_URL": "http://127.0.0.1:3001",
        "GHL_API_BASE_URL": "http://127.0.0.1:3001",
        "SMARTLEAD_API_BASE_URL": "http://127.0.0.1:3001",
        "INSTANTLY_API_BASE_URL": "http://127.0.0.1:3001",
        "UNIPILE_API_BASE_URL": "http://127.0.0.1:3001",
        "LLM_PROVIDER": "openai",
        "LLM_MODEL": "gpt-4o-mini",
        "LLM_BASE_URL": "http://127.0.0.1:3001/v1",
        "CALLBACK_BASE_URL": "http://127.0.0.1:3000",
        "CANARY_FROM_NUMBER": "+14155550100",
        "CANARY_TO_NUMBER": "+14155550199",
        "REMINDER_FROM_NUMBER": "+14155550100",  # the sandbox-owned canary number
        "SENDER_CONCURRENCY": "1",
        "RECONCILE_PROVIDERS": "twilio,openphone",
    }
    assert environment["CANARY_PROVIDER"] == "twilio"
    assert environment["OUTBOUND_QUEUE_URL"].endswith("-OutboundQueue")
    assert environment["ALERTS_TOPIC_ARN"].endswith("-AlertsTopic")
    # CALLBACK_BASE_URL's !If (the API's own domain) is replaced, not reported as unresolved
    assert not any("CALLBACK_BASE_URL" in note for note in notes)


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
