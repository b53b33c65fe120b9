"""The local stack's schedules: rate/cron/at expressions, the stack clock and --time-scale, the scheduled
event, and the timers, driven by a fake clock (no thread, no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from switchboard_ops.local.functions import ScheduleSource, function_specs
from switchboard_ops.local.schedules import (
    ScheduleError,
    Scheduler,
    StackClock,
    parse_expression,
    scheduled_event,
)
from switchboard_ops.local.template import load_template

# Thursday 2026-03-05 14:37:12 UTC
NOW = datetime(2026, 3, 5, 14, 37, 12, tzinfo=UTC).timestamp()


def next_fire(expression: str, **options: str) -> str:
    moment = parse_expression(expression, **options).next_after(NOW, NOW)
    assert moment is not None
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("expression", "fires"),
    [
        ("rate(1 hour)", "2026-03-05 15:37"),
        ("rate(5 minutes)", "2026-03-05 14:42"),
        ("rate(2 days)", "2026-03-07 14:37"),
        ("cron(0 2 * * ? *)", "2026-03-06 02:00"),
        ("cron(*/15 * * * ? *)", "2026-03-05 14:45"),
        ("cron(0 9 ? * MON-FRI *)", "2026-03-06 09:00"),
        ("cron(0 3 ? * SUN *)", "2026-03-08 03:00"),
        ("cron(0 3 ? * 1 *)", "2026-03-08 03:00"),  # 1 = Sunday
        ("cron(0 0 L * ? *)", "2026-03-31 00:00"),
        ("cron(0 10 ? * 6#3 *)", "2026-03-20 10:00"),  # the third Friday
        ("cron(0 10 ? * 2L *)", "2026-03-30 10:00"),  # the last Monday
        ("cron(0 12 15W * ? *)", "2026-03-16 12:00"),  # the 15th is a Sunday
        ("cron(30 8 1 JAN,JUL ? *)", "2026-07-01 08:30"),
        ("cron(0 0 1 1 ? 2027)", "2027-01-01 00:00"),
        ("cron(37 14 * * ? *)", "2026-03-06 14:37"),  # strictly after now
    ],
)
def test_expressions_fire_when_eventbridge_would(expression, fires):
    assert next_fire(expression) == fires


def test_a_schedule_v2_cron_runs_in_its_time_zone():
    assert (
        next_fire("cron(0 2 * * ? *)", kind="ScheduleV2", timezone="America/New_York") == "2026-03-06 07:00"
    )


def test_at_is_a_one_time_schedule_v2_expression():
    assert next_fire("at(2026-03-05T15:00:00)", kind="ScheduleV2") == "2026-03-05 15:00"
    assert parse_expression("at(2026-03-05T14:00:00)", kind="ScheduleV2").next_after(NOW, NOW) is None
    with pytest.raises(ScheduleError, match="ScheduleV2"):
        parse_expression("at(2026-03-05T15:00:00)")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 hours)", "singular"),
        ("rate(2 hour)", "plural"),
        ("rate(0 minutes)", ">= 1"),
        ("rate(1 week)", "minute"),
        ("cron(0 2 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 2 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 2 * *)", "six fields"),
        ("cron(61 2 * * ? *)", "0-59"),
        ("cron(0 2 * FOO ? *)", "month"),
        ("every hour", "rate"),
    ],
)
def test_what_eventbridge_refuses_is_refused_with_a_message(expression, message):
    with pytest.raises(ScheduleError, match=message):
        parse_expression(expression)


def test_the_scheduled_event_is_eventbridges():
    source = ScheduleSource(function="HealthCheckFunction", event="Hourly", expression="rate(1 hour)")

    event = scheduled_event(source, region="us-east-1", account="123456789012", now=NOW)

    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-03-05T14:37:12Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/HealthCheckFunctionHourly"],
        "detail": {},
    }
    assert len(event["id"]) == 36


def test_a_schedule_with_input_sends_that_instead():
    source = ScheduleSource("F", "Nightly", "cron(0 2 * * ? *)", kind="ScheduleV2", input='{"full": true}')

    assert scheduled_event(source, region="us-east-1", account="1") == {"full": True}


def test_the_templates_schedules_are_read_with_their_properties():
    template = {
        "Globals": {"Function": {"Timeout": 10}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "functions/fn/",
                    "Handler": "app.handler",
                    "Events": {
                        "Hourly": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)"}},
                        "Off": {
                            "Type": "Schedule",
                            "Properties": {"Schedule": "rate(1 day)", "Enabled": False, "Name": "nightly"},
                        },
                        "Tz": {
                            "Type": "ScheduleV2",
                            "Properties": {
                                "ScheduleExpression": "cron(0 9 * * ? *)",
                                "ScheduleExpressionTimezone": "Europe/Paris",
                                "State": "DISABLED",
                                "Input": '{"a": 1}',
                            },
                        },
                        "Api": {"Type": "HttpApi", "Properties": {"Path": "/x", "Method": "GET"}},
                    },
                },
            }
        },
    }

    hourly, off, tz = function_specs(template)["Fn"].schedules

    assert (hourly.event, hourly.expression, hourly.enabled, hourly.rule_name) == (
        "Hourly",
        "rate(1 hour)",
        True,
        "FnHourly",
    )
    assert (off.enabled, off.rule_name) == (False, "nightly")
    assert (tz.kind, tz.timezone, tz.enabled, tz.input) == ("ScheduleV2", "Europe/Paris", False, '{"a": 1}')


def test_the_health_check_runs_hourly_and_its_callback_watch_every_minute_in_the_template():
    schedules = {s.event: s for s in function_specs(load_template())["HealthCheckFunction"].schedules}
    hourly, watch = schedules["Hourly"], schedules["CallbackWatch"]

    assert (hourly.kind, hourly.expression, hourly.enabled) == ("Schedule", "rate(1 hour)", True)
    assert (watch.expression, watch.enabled, watch.input) == (
        "rate(1 minute)",
        True,
        '{"action": "callbacks"}',
    )


class FakeTime:
    def __init__(self) -> None:
        self.monotonic = 1000.0

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds


def scheduler(*sources: ScheduleSource, scale: float = 1, at_start: bool = False) -> tuple[Any, Any, list]:
    fake = FakeTime()
    clock = StackClock(scale, wall=lambda: NOW, monotonic=lambda: fake.monotonic)
    fired: list[tuple[str, float]] = []

    def fire(source: ScheduleSource) -> dict[str, str]:
        fired.append((source.event, fake.monotonic - 1000.0))
        return {"status": "sent"}

    return Scheduler(list(sources), fire, clock, at_start=at_start, log=lambda line: None), fake, fired


HOURLY = ScheduleSource("HealthCheckFunction", "Hourly", "rate(1 hour)")


def test_a_rate_first_fires_one_period_after_the_start_not_at_once():
    timers, fake, fired = scheduler(HOURLY)

    assert timers.run_due() == pytest.approx(3600)
    fake.advance(3599)
    timers.run_due()
    assert fired == []
    fake.advance(1)
    timers.run_due()
    assert fired == [("Hourly", 3600)]


def test_at_time_scale_60_rate_1_hour_fires_every_real_minute():
    timers, fake, fired = scheduler(HOURLY, scale=60)

    for _ in range(3):
        fake.advance(timers.run_due())
        timers.run_due()

    assert [at for _, at in fired] == pytest.approx([60, 120, 180])
    assert timers.describe()[0]["real_period_seconds"] == 60 and timers.describe()[0]["fired"] == 3


def test_a_cron_runs_on_the_stack_clock():
    nightly = ScheduleSource("ReconcileFunction", "Nightly", "cron(0 2 * * ? *)")
    timers, fake, fired = scheduler(nightly, scale=60)

    # 14:37:12 -> 02:00 is 11 h 22 min 48 s on the stack clock: 682.8 real seconds at 60x
    assert timers.run_due() == pytest.approx(682.8)
    fake.advance(682.8)
    timers.run_due()
    assert len(fired) == 1
    assert timers.run_due() == pytest.approx(24 * 60)  # the next night, 24 real minutes later


def test_missed_fires_are_skipped_not_caught_up():
    timers, fake, fired = scheduler(HOURLY)

    fake.advance(3 * 3600 + 10)
    timers.run_due()

    assert len(fired) == 1
    assert timers.run_due() == pytest.approx(3600 - 10)


def test_startup_mode_fires_each_schedule_at_once_too():
    clock = StackClock(1, wall=lambda: NOW, monotonic=lambda: 1000.0)
    fired: list[str] = []

    def fire(source: ScheduleSource) -> None:
        fired.append(source.event)
        timers.stop_event.set()  # end run() after the start-up fires

    timers = Scheduler([HOURLY], fire, clock, at_start=True, log=lambda line: None)
    timers.run()

    assert fired == ["Hourly"]


def test_disabled_and_invalid_schedules_are_not_run_and_say_why():
    disabled = ScheduleSource("F", "Off", "rate(1 hour)", enabled=False)
    broken = ScheduleSource("F", "Broken", "rate(1 hours)")
    timers, fake, fired = scheduler(disabled, broken)

    assert timers.timers == []
    assert any("disabled" in problem and "local trigger F" in problem for problem in timers.problems)
    assert any("Broken" in problem and "singular" in problem for problem in timers.problems)


def test_a_failing_function_is_logged_and_the_schedule_goes_on():
    fake = FakeTime()
    clock = StackClock(1, wall=lambda: NOW, monotonic=lambda: fake.monotonic)
    lines: list[str] = []

    def fail(source: ScheduleSource) -> None:
        raise RuntimeError("boom")

    timers = Scheduler([HOURLY], fail, clock, log=lines.append)
    fake.advance(3600)
    timers.run_due()

    assert "[ERROR]" in lines[0] and "boom" in lines[0]
    assert timers.describe()[0]["last_outcome"] == "error"
    assert timers.run_due() == pytest.approx(3600)


def test_the_schedules_mode_comes_from_the_flag_else_the_environment(monkeypatch):
    from switchboard_ops.local.stack import LocalStackError, StackConfig

    monkeypatch.delenv("SWITCHBOARD_SCHEDULES", raising=False)
    assert StackConfig.from_env().schedules == "on"
    monkeypatch.setenv("SWITCHBOARD_SCHEDULES", "off")
    assert StackConfig.from_env().schedules == "off"
    assert StackConfig.from_env(schedules="startup").schedules == "startup"
    monkeypatch.setenv("SWITCHBOARD_SCHEDULES", "sometimes")
    with pytest.raises(LocalStackError, match="on, off, startup"):
        StackConfig.from_env()
