"""The IAM check under pytest-xdist (`make test` runs `pytest -n 2`): every worker's calls reach the one
check the controller makes, and a call one worker alone made still fails the run when it is denied.

The cases read one inner pytest session with the plugin over a probe test that `--dist each` runs on both
workers; the probe records a call chosen by its worker's id, so only an aggregating controller sees both."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

PROBE = """
import os

from switchboard_ops.iam import calls
from switchboard_ops.iam.policy import resource_arn

CALLS = {calls_by_worker}


def test_probe():
    function, action, queue = CALLS[os.environ["PYTEST_XDIST_WORKER"]]
    recorder = calls.installed()
    recorder.add(calls.Call(function, action, resource_arn("sqs", queue), action.split(":")[1]))
"""

VISIBILITY = "sqs:ChangeMessageVisibility"
# gw0's call the template allows; gw1's no policy allows (a function the template does not have)
CALLS_BY_WORKER = {
    "gw0": ("WorkerFunction", VISIBILITY, "ProcessingQueue"),
    "gw1": ("GhostFunction", "sqs:SendMessage", "ProcessingQueue"),
}


@dataclass(frozen=True)
class InnerRun:
    code: int
    output: str


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> InnerRun:
    """An inner `pytest -n 2 --dist each` with the IAM plugin over the probe (one run: it costs seconds)."""
    root = tmp_path_factory.mktemp("iam-xdist")
    (root / "conftest.py").write_text('pytest_plugins = ["switchboard_ops.iam.pytest_plugin"]\n')
    (root / "test_probe.py").write_text(PROBE.format(calls_by_worker=CALLS_BY_WORKER))
    # this test may itself run on an xdist worker: the inner session must be a controller of its own
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_XDIST")}
    result = subprocess.run(  # noqa: S603 - pytest from this environment
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "each", "-p", "no:cacheprovider", str(root)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return InnerRun(result.returncode, result.stdout + result.stderr)


def test_the_controller_checks_the_calls_of_every_worker(two_workers: InnerRun) -> None:
    # Given two workers that each recorded a different call (CALLS_BY_WORKER)
    # When the session ends
    # Then its one check counted both calls and found the one denied
    assert "IAM check: 2 distinct calls recorded, 1 denied" in two_workers.output, two_workers.output


def test_a_call_denied_on_one_worker_fails_the_run(two_workers: InnerRun) -> None:
    # Given a worker whose test passed but recorded a call no policy allows
    # When the session ends
    # Then the run fails, naming that call
    assert "2 passed" in two_workers.output, two_workers.output
    assert two_workers.code == 1, two_workers.output
    assert "GhostFunction: sqs:SendMessage on" in two_workers.output, two_workers.output
