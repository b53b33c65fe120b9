"""The health check's whole loop on the local stack, through the CLI: the canary goes out through the
sender and the sandbox provider's Twilio API from one sandbox number to the other, comes back as that
number's signed inbound webhook, and is judged 2 s later (120 s at time scale 60). Dropping webhooks in
the sandbox breaks the loop for real: one FAILED alert, no more while it stays down, one "recovered".

The shared stack runs with `--schedules off`, so only these tests start checks; each test first waits
until no check is still in flight, so a verdict from an earlier test never lands in a later one's count.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

RUN_TIMEOUT = "20"  # a verdict comes 2 s after the start; this bounds a broken loop
SETTLE_SECONDS = 15


def run_check(stack: Any) -> tuple[int, dict[str, Any]]:
    """`switchboard health run --wait --json`: (exit code, the verdict)."""
    result = stack.cli("health", "run", "--wait", "--timeout", RUN_TIMEOUT, "--json")
    assert result.returncode in (0, 1), f"{result.returncode}: {result.stderr}\n{stack.log()[-3000:]}"
    return result.returncode, json.loads(result.stdout)


def alerts(stack: Any) -> list[dict[str, Any]]:
    return list(stack.cli_json("alerts", "list")["alerts"])


def subjects(stack: Any) -> list[str]:
    return [alert["subject"] for alert in alerts(stack)]


def wait_for_alerts(stack: Any, count: int, timeout: float = 5.0) -> list[str]:
    """The alert subjects once there are `count` of them (the alert is published just after the verdict)."""
    deadline = time.monotonic() + timeout
    while True:
        found = subjects(stack)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def settle(stack: Any) -> dict[str, Any]:
    """Wait until every started check is judged; `health stats --json` then."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        stats = stack.cli_json("health", "stats")
        if stats["in_progress"] == 0:
            return dict(stats)
        assert time.monotonic() < deadline, f"checks still in progress after {SETTLE_SECONDS} s: {stats}"
        time.sleep(0.5)


@pytest.fixture
def sandbox_delivers(live_stack) -> Iterator[None]:
    """Every test here starts and ends with the sandbox delivering all webhooks, and no check in flight."""
    live_stack.sandbox("POST", "/sandbox/config", {"drop_rate": 0.0})
    settle(live_stack)
    yield
    live_stack.sandbox("POST", "/sandbox/config", {"drop_rate": 0.0})


def test_local_trigger_fires_the_health_check_and_prints_its_result(live_stack, sandbox_delivers):
    # When the hourly schedule is fired by hand
    result = live_stack.cli("local", "trigger", "HealthCheckFunction")

    # Then the function's own result is printed: the canary was sent, under a time-ordered token
    assert result.returncode == 0, result.stderr
    started = json.loads(result.stdout)
    assert started["status"] == "sent" and started["token"][:10].isdigit()
    # And the check it started is judged passed a moment later
    stats = settle(live_stack)
    assert stats["last_check"]["token"] == started["token"]
    assert stats["last_check"]["status"] == "passed"


def test_health_run_wait_passes_when_the_canary_comes_back(live_stack, sandbox_delivers):
    # When an operator runs the health check and waits for the verdict
    result = live_stack.cli("health", "run", "--wait", "--timeout", RUN_TIMEOUT)

    # Then it exits 0 and prints the token, the status and the latency
    assert result.returncode == 0, result.stderr + live_stack.log()[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert "status passed" in last and "latency" in last and " ms" in last

    # And the canary really went round the loop: out through the sandbox's Twilio API, from the first
    # sandbox number to the second, and back as the second number's inbound message
    canary = live_stack.state["canary"]
    token = last.split()[1]
    body_has_token = [
        m for m in live_stack.sandbox("GET", "/sandbox/messages")["messages"] if token in m["body"]
    ]
    assert sorted((m["direction"], m["from"], m["to"][0]) for m in body_has_token) == [
        ("inbound", canary["from"], canary["to"]),
        ("outbound", canary["from"], canary["to"]),
    ]


def test_dropped_webhooks_fail_the_check_with_one_alert_until_it_recovers(live_stack, sandbox_delivers):
    # Given the loop works (so the next failure is news)
    assert run_check(live_stack)[1]["status"] == "passed"
    before = wait_for_alerts(live_stack, 0)

    # When the sandbox drops every inbound webhook
    live_stack.sandbox("POST", "/sandbox/config", {"drop_rate": 1.0})
    code, verdict = run_check(live_stack)

    # Then the check fails (exit 1) and exactly one FAILED alert is published
    assert (code, verdict["status"], verdict["received_at"]) == (1, "failed", None)
    after_first = wait_for_alerts(live_stack, len(before) + 1)
    assert after_first[len(before) :] == ["Switchboard health check FAILED"]
    failed = [alert for alert in alerts(live_stack) if alert["subject"] == "Switchboard health check FAILED"]
    assert verdict["token"] in failed[-1]["message"]

    # And a second failing check adds no alert
    code, verdict = run_check(live_stack)
    assert (code, verdict["status"]) == (1, "failed")
    time.sleep(1)
    assert subjects(live_stack) == after_first

    # When webhooks flow again, the next check passes and exactly one "recovered" alert is added
    live_stack.sandbox("POST", "/sandbox/config", {"drop_rate": 0.0})
    code, verdict = run_check(live_stack)
    assert (code, verdict["status"]) == (0, "passed")
    after_recovery = wait_for_alerts(live_stack, len(after_first) + 1)
    assert after_recovery[len(after_first) :] == ["Switchboard health check recovered"]

    # And the history counts all of it
    stats = live_stack.cli_json("health", "stats", "--days", "1")
    assert stats["failed"] >= 2 and stats["passed"] >= 2 and stats["last_failure"]
    assert 0 < stats["success_rate"] < 100
    assert stats["latency_p50_ms"] is not None
    people = live_stack.cli("health", "stats")
    assert people.returncode == 0 and "SUCCESS RATE" in people.stdout and "last failure" in people.stdout
    table = live_stack.cli("alerts", "list")
    assert table.returncode == 0 and "Switchboard health check recovered" in table.stdout
