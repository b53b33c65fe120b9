"""`switchboard local up` as a process: ready means stack.json; SIGINT/SIGTERM stop it cleanly."""

from __future__ import annotations

import json
import signal
import socket

import pytest
import requests

from switchboard_ops.local.template import load_template, resources_of_type

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_stack_writes_its_state_when_ready_and_removes_it_on_a_clean_stop(stack_launcher, state_dir, sig):
    # Given a local stack that has started
    stack = stack_launcher(state_dir)
    state_file = state_dir / "stack.json"
    state = json.loads(state_file.read_text())
    assert {"api_url", "aws_endpoint_url", "region", "table_name", "queues", "secrets", "started_at"} <= set(
        state
    )
    assert set(state["queues"]) == set(resources_of_type(load_template(), "AWS::SQS::Queue"))
    assert {"ProcessingQueue", "ProcessingDeadLetterQueue"} <= set(state["queues"])
    assert {"function": "WorkerFunction", "queue": "ProcessingQueue"}.items() <= next(
        source for source in state["event_sources"] if source["function"] == "WorkerFunction"
    ).items()
    assert state["time_scale"] == 60 and state["fault_injection"] == "true"
    assert state["secrets"]["twilio"]["auth_token"]
    # And its sandbox provider, control endpoint and alerts inbox are up, and named in the state
    assert {"sandbox_url", "control_url", "alerts_queue_url", "canary", "schedules"} <= set(state)
    health = requests.get(f"{state['sandbox_url']}/sandbox/health", timeout=5).json()
    assert health == {"ok": True, "api_url": state["api_url"]}
    assert requests.get(f"{state['control_url']}/_local/health", timeout=5).json() == {"ok": True}
    assert state["canary"] == {
        "provider": "twilio",
        "from": "+14155550100",
        "to": "+14155550199",
        "timeout_seconds": 2,
    }
    assert {
        "function": "HealthCheckFunction",
        "event": "Hourly",
        "expression": "rate(1 hour)",
    }.items() <= next(
        item for item in state["schedules"] if item["function"] == "HealthCheckFunction"
    ).items()

    # When it is stopped by a signal
    returncode = stack.stop(sig)

    # Then it exits 0, removes its state, and the CLI says plainly that nothing is running
    assert returncode == 0, stack.log()
    assert not state_file.exists()
    assert "Switchboard local stack is up" in stack.log()
    result = stack.cli("status")
    assert result.returncode == 2
    assert "not running" in result.stderr
    # And the sandbox provider stopped with it
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{state['sandbox_url']}/sandbox/health", timeout=2)


def test_a_second_stack_on_the_same_state_dir_refuses_to_start(live_stack):
    # Given a running stack
    # When another is started with the same state directory
    result = live_stack.cli("local", "up")

    # Then it refuses with a clear message, and the first one's state is untouched
    assert result.returncode == 2
    assert "already running" in result.stderr
    assert (live_stack.state_dir / "stack.json").exists()


def test_a_busy_sandbox_port_stops_the_start_with_a_message(run_local_up, state_dir):
    # Given something already listening on the sandbox provider's port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()

        # When the stack starts
        result = run_local_up(state_dir, SWITCHBOARD_SANDBOX_PORT=str(busy.getsockname()[1]))

    # Then it refuses plainly, naming the variable to change, and leaves no state behind
    assert result.returncode == 2, result.stdout + result.stderr
    assert "sandbox provider port" in result.stderr and "SWITCHBOARD_SANDBOX_PORT" in result.stderr
    assert not (state_dir / "stack.json").exists()
