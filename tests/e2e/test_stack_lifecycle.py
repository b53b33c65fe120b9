"""`switchboard local up` as a process: ready means stack.json; SIGINT/SIGTERM stop it cleanly."""

from __future__ import annotations

import json
import signal

import pytest

from switchboard_ops.local.template import load_template, resources_of_type

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_stack_writes_its_state_when_ready_and_removes_it_on_a_clean_stop(stack_launcher, tmp_path, sig):
    # Given a local stack that has started
    stack = stack_launcher(tmp_path)
    state_file = tmp_path / "stack.json"
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

    # When it is stopped by a signal
    returncode = stack.stop(sig)

    # Then it exits 0, removes its state, and the CLI says plainly that nothing is running
    assert returncode == 0, stack.log()
    assert not state_file.exists()
    assert "Switchboard local stack is up" in stack.log()
    result = stack.cli("status")
    assert result.returncode == 2
    assert "not running" in result.stderr


def test_a_second_stack_on_the_same_state_dir_refuses_to_start(live_stack):
    # Given a running stack
    # When another is started with the same state directory
    result = live_stack.cli("local", "up")

    # Then it refuses with a clear message, and the first one's state is untouched
    assert result.returncode == 2
    assert "already running" in result.stderr
    assert (live_stack.state_dir / "stack.json").exists()
