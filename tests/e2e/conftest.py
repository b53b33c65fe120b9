"""E2E fixtures: `switchboard local up` as a real subprocess on free ports, driven over real HTTP with
`requests` and through the `switchboard` CLI, exactly as a developer would use them.

The stack runs with `--time-scale 60`: the worker's retry ladder (1, 2, 4, 8, 16 minutes) takes
1, 2, 4, 8, 16 seconds, so retries and dead-lettering are observed for real within a bounded wait, and
the health check's 120 s canary timeout is 2 s. The shared stack runs with `--schedules off` (the tests
fire the health check by hand, so no hourly check lands in the middle of one that counts alerts); the
schedules have a stack of their own (test_schedules.py). Its alarms are off too (`--alarms off`): a
failing canary's HealthCheckFailedAlarm would add CloudWatch notifications to the alerts those tests
count; the alarms have a stack of their own (test_alarms_live.py).

State directories are made with tempfile, not pytest's tmp_path: pytest prunes old base temp dirs when
another session starts, which would delete a running stack's stack.json under it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from switchboard_ops.local.samples import Sample

SWITCHBOARD = Path(sys.executable).parent / "switchboard"
READY_TIMEOUT_SECONDS = 60
# The stack's own stop lets the scheduler and then the pollers finish what is in progress, 15 s each
# (switchboard_ops/local/stack.py); waiting less than that sum killed a stack that was stopping cleanly on a
# loaded CI machine (returncode -9).
STOP_TIMEOUT_SECONDS = 45
TIME_SCALE = "60"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveStack:
    """A running `switchboard local up`: its process, state file, and helpers to post and ask the CLI."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    log_path: Path
    state: dict[str, Any] = field(default_factory=dict)
    enqueued: int = 0  # jobs the stack reported enqueued, over every post made through `post`
    # (provider, provider message id) of every enqueued job -> True when its text asks for injected faults
    jobs: dict[tuple[str, str], bool] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return str(self.state["api_url"])

    @property
    def sandbox_url(self) -> str:
        return str(self.state["sandbox_url"])

    def sandbox(self, method: str, path: str, payload: Any = None) -> Any:
        """A call to the sandbox provider's control routes (/sandbox/...): its JSON answer."""
        response = requests.request(method, f"{self.sandbox_url}{path}", json=payload, timeout=30)
        assert response.status_code == 200, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SWITCHBOARD_STATE_DIR": str(self.state_dir)}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own console script
            [str(SWITCHBOARD), *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )

    def post(
        self,
        sample: Sample,
        *,
        body: bytes | None = None,
        signed_body: bytes | None = None,
        secrets: dict[str, dict[str, Any]] | None = None,
    ) -> requests.Response:
        """Post `sample` signed now for the live URL; `signed_body` is signed but `body` is what is sent."""
        to_sign = Sample(
            sample.name,
            sample.route,
            sample.content_type,
            sample.body if signed_body is None else signed_body,
            sample.headers,
            sample.path_suffix,
        )
        url, headers, signed = to_sign.signed(
            self.api_url, now=time.time(), secrets=secrets or self.state["secrets"]
        )
        response = requests.post(url, data=signed if body is None else body, headers=headers, timeout=30)
        sent = signed if body is None else body
        self.count(response, faulty=b"#fail" in sent or b"%23fail" in sent)
        return response

    def count(self, response: requests.Response, *, faulty: bool = False) -> None:
        if response.status_code == 200 and response.json().get("enqueued"):
            self.enqueued += 1
            result = response.json()
            key = (result["provider"], result["provider_message_id"])
            self.jobs[key] = self.jobs.get(key, False) or faulty

    def cli_json(self, *args: str) -> Any:
        """A `switchboard ... --json` command that must succeed: its parsed output."""
        result = self.cli(*args, "--json")
        assert result.returncode == 0, f"switchboard {' '.join(args)}: {result.returncode}\n{result.stderr}"
        return json.loads(result.stdout)

    def message(self, provider: str, message_id: str) -> dict[str, Any] | None:
        """`switchboard messages get`: the JSON it prints, or None when it exits 1 (not stored)."""
        result = self.cli("messages", "get", "--provider", provider, "--id", message_id)
        if result.returncode == 1:
            assert json.loads(result.stderr)["error"] == "not_found", result.stderr
            return None
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def wait_for_message(
        self,
        provider: str,
        message_id: str,
        done: Callable[[dict[str, Any]], bool],
        *,
        timeout: float,
        what: str,
        interval: float = 0.5,
    ) -> dict[str, Any]:
        """Poll `switchboard messages get` until `done(found)`; fail after `timeout` s with what was seen."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.message(provider, message_id)
            if found is not None and done(found):
                return found
            if time.monotonic() > deadline:
                seen = (
                    None
                    if found is None
                    else {k: found.get(k) for k in ("job_state", "attempts", "exhausted")}
                )
                pytest.fail(
                    f"{provider} {message_id}: not {what} after {timeout} s (last seen {seen})\n"
                    f"{self.log()[-4000:]}"
                )
            time.sleep(interval)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        return int(self.process.returncode)


def stack_env(state_dir: Path) -> dict[str, str]:
    """The environment `switchboard local up` gets: free ports, its own state directory."""
    env = {
        **os.environ,
        "SWITCHBOARD_PORT": str(free_port()),
        "SWITCHBOARD_AWS_PORT": str(free_port()),
        "SWITCHBOARD_SANDBOX_PORT": str(free_port()),
        "SWITCHBOARD_STATE_DIR": str(state_dir),
    }
    for name in (
        "AWS_ENDPOINT_URL",
        "SWITCHBOARD_CONTROL_PORT",
        "SWITCHBOARD_SCHEDULES",
        "SWITCHBOARD_TIME_SCALE",
        "SWITCHBOARD_ALARMS",
    ):
        env.pop(name, None)
    env.pop("SWITCHBOARD_FAULT_INJECTION", None)  # the local stack's default (on) is what the tests expect
    return env


def start_stack(
    state_dir: Path,
    args: Sequence[str] = ("--time-scale", TIME_SCALE, "--schedules", "off", "--alarms", "off"),
) -> LiveStack:
    """Start `switchboard local up` on free ports; return once stack.json says it is ready."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "stack.log"
    env = stack_env(state_dir)
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would block the stack's logging
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(SWITCHBOARD), "local", "up", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stack = LiveStack(process=process, state_dir=state_dir, log_path=log_path)
    state_file = state_dir / "stack.json"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not state_file.exists():
        if process.poll() is not None:
            pytest.fail(f"switchboard local up exited with {process.returncode}:\n{stack.log()}")
        if time.monotonic() > deadline:
            stack.stop(signal.SIGKILL)
            pytest.fail(f"switchboard local up not ready after {READY_TIMEOUT_SECONDS} s:\n{stack.log()}")
        time.sleep(0.05)
    stack.state = json.loads(state_file.read_text())
    return stack


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A fresh state directory for a stack of the test's own (removed afterwards)."""
    path = Path(tempfile.mkdtemp(prefix="switchboard-e2e-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def stack_launcher() -> Iterator[Callable[..., LiveStack]]:
    """start_stack for a test of its own; whatever it started is stopped after the test, even a failed one."""
    started: list[LiveStack] = []

    def launch(state_dir: Path, *args: str) -> LiveStack:
        started.append(start_stack(state_dir, *([args] if args else [])))
        return started[-1]

    yield launch
    for stack in started:
        stack.stop()


@pytest.fixture
def run_local_up() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`switchboard local up` run to its end (a start that must fail), with changes to its environment."""

    def run(state_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own console script
            [str(SWITCHBOARD), "local", "up"],
            env={**stack_env(state_dir), **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def live_stack() -> Iterator[LiveStack]:
    path = Path(tempfile.mkdtemp(prefix="switchboard-e2e-"))
    stack = start_stack(path)
    try:
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(path, ignore_errors=True)
