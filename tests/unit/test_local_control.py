"""The local stack's control endpoint without a socket: ControlApi.dispatch(method, target, body)."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard_ops.local.control import ControlApi
from switchboard_ops.local.functions import FunctionSpec, ScheduleSource

HOURLY = ScheduleSource("HealthCheckFunction", "Hourly", "rate(1 hour)")
NIGHTLY = ScheduleSource("ReconcileFunction", "Nightly", "cron(0 2 * * ? *)")
WEEKLY = ScheduleSource("ReconcileFunction", "Weekly", "cron(0 3 ? * SUN *)")


def spec(logical_id: str, *schedules: ScheduleSource) -> FunctionSpec:
    return FunctionSpec(logical_id, logical_id.lower(), "app", "handler", 10, 256, schedules=schedules)


class Calls:
    def __init__(self) -> None:
        self.fired: list[ScheduleSource] = []
        self.invoked: list[tuple[str, Any]] = []

    def fire(self, source: ScheduleSource) -> Any:
        self.fired.append(source)
        if source.function == "Broken":
            raise ValueError("no canary numbers\n")
        return {"status": "sent", "token": "1795593600-0a1b2c3d"}

    def invoke(self, logical_id: str, event: Any) -> Any:
        self.invoked.append((logical_id, event))
        return {"batchItemFailures": []}


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def control(calls: Calls) -> ControlApi:
    functions = {
        "HealthCheckFunction": spec("HealthCheckFunction", HOURLY),
        "ReconcileFunction": spec("ReconcileFunction", NIGHTLY, WEEKLY),
        "WorkerFunction": spec("WorkerFunction"),
        "Broken": spec("Broken", ScheduleSource("Broken", "Hourly", "rate(1 hour)")),
    }
    return ControlApi(
        functions,
        fire=calls.fire,
        invoke=calls.invoke,
        schedules=lambda: {"mode": "on", "schedules": [{"function": "HealthCheckFunction"}]},
        log=lambda line: None,
    )


def test_trigger_fires_the_functions_schedule_and_answers_its_result(control, calls):
    status, result = control.dispatch("POST", "/_local/trigger/HealthCheckFunction")

    assert (status, result) == (200, {"status": "sent", "token": "1795593600-0a1b2c3d"})
    assert calls.fired == [HOURLY]


def test_trigger_picks_a_named_schedule(control, calls):
    assert control.dispatch("POST", "/_local/trigger/ReconcileFunction?event=Weekly")[0] == 200
    assert control.dispatch("POST", "/_local/trigger/ReconcileFunction")[0] == 200

    assert calls.fired == [WEEKLY, NIGHTLY]


def test_a_json_body_is_the_event_to_send(control, calls):
    status, _ = control.dispatch("POST", "/_local/trigger/WorkerFunction", b'{"Records": []}')

    assert status == 200 and calls.invoked == [("WorkerFunction", {"Records": []})]


@pytest.mark.parametrize(
    ("method", "target", "body", "status", "error"),
    [
        ("POST", "/_local/trigger/Nope", b"", 404, "not_found"),
        ("POST", "/_local/trigger/WorkerFunction", b"", 400, "no_schedule"),
        ("POST", "/_local/trigger/HealthCheckFunction?event=Nope", b"", 404, "no_schedule"),
        ("POST", "/_local/trigger/WorkerFunction", b"{not json", 400, "bad_request"),
        ("GET", "/_local/trigger/HealthCheckFunction", b"", 405, "method_not_allowed"),
        ("GET", "/_local/nope", b"", 404, "not_found"),
    ],
)
def test_mistakes_are_json_errors(control, calls, method, target, body, status, error):
    answered, payload = control.dispatch(method, target, body)

    assert (answered, payload["error"]) == (status, error)
    assert calls.fired == [] and calls.invoked == []


def test_a_function_that_raises_is_reported_as_lambda_reports_it(control):
    status, payload = control.dispatch("POST", "/_local/trigger/Broken")

    assert status == 500
    assert payload == {
        "error": "function_error",
        "errorType": "ValueError",
        "errorMessage": "no canary numbers",
        "function": "Broken",
    }


def test_health_and_schedules(control):
    assert control.dispatch("GET", "/_local/health") == (200, {"ok": True})
    assert control.dispatch("GET", "/_local/schedules")[1]["schedules"] == [
        {"function": "HealthCheckFunction"}
    ]
