"""The IAM check as a pytest plugin (tests/conftest.py loads it): records every AWS call the handlers
make in this session — in-process, and in any local stack the e2e tests start (through the directory
named by SWITCHBOARD_IAM_RECORD_DIR) — and at the session's end fails the run if the template's rendered
policies deny any of them, grant anything on "*" outside the allow-list, or carry a managed policy other
than AWSLambdaBasicExecutionRole. Grants no call used are reported only when the whole suite ran, since a
subset of the tests exercises only a subset of the grants.

Under pytest-xdist each worker hands its calls (and whether it saw the whole suite) to the controller at its
end, and only the controller checks: one verdict over every call of every worker."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from switchboard_ops.iam import calls as iam_calls
from switchboard_ops.iam.check import (
    any_resource,
    denied,
    describe_denied,
    describe_grants,
    describe_managed,
    event_source_calls,
    foreign_managed,
    unexercised,
)
from switchboard_ops.iam.policy import PolicyRenderError, function_policies
from switchboard_ops.local.template import load_template

TIERS = ("unit", "integration", "e2e")

_recorder = iam_calls.install()
_stack_calls = Path(tempfile.mkdtemp(prefix="switchboard-iam-"))
os.environ[iam_calls.RECORD_DIR_ENV] = str(_stack_calls)
_deselected: list[pytest.Item] = []
_reports: list[str] = []
# What pytest-xdist's workers recorded, as they finish (controller only).
_worker_calls: set[iam_calls.Call] = set()
_worker_whole_suite: list[bool] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected.extend(items)


def _recorded() -> set[iam_calls.Call]:
    found = set(_recorder.calls)
    for path in _stack_calls.glob("calls-*.jsonl"):
        found |= iam_calls.read_calls(path)
    return found


def _whole_suite(session: pytest.Session) -> bool:
    if _worker_whole_suite:  # an xdist controller collects nothing itself: each worker collected it all
        return all(_worker_whole_suite) and not session.shouldstop
    tiers = {part for item in session.items for part in item.path.parts if part in TIERS}
    # A failed test still ran its calls up to the failure: only a run cut short (-x) or narrowed is partial.
    return tiers == set(TIERS) and not _deselected and not session.shouldstop


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist's controller: a worker ended; what it recorded joins the controller's check."""
    output = getattr(node, "workeroutput", None) or {}
    _worker_calls.update(iam_calls.Call(**call) for call in output.get("iam_calls", []))
    # a worker that crashed sent nothing: the tests fail anyway, and its calls are not the whole suite's
    _worker_whole_suite.append(error is None and bool(output.get("iam_whole_suite")))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    made = _recorded() | _worker_calls
    shutil.rmtree(_stack_calls, ignore_errors=True)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller checks every worker's calls at once
        workeroutput["iam_calls"] = [call.__dict__ for call in sorted(made)]
        workeroutput["iam_whole_suite"] = _whole_suite(session)
        return
    if not made:  # no handler ran (unit tests only): nothing to check
        return
    try:
        policies = function_policies()
    except PolicyRenderError as exc:
        _reports.append(f"IAM check could not run: {exc}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    checked = made | event_source_calls(load_template())
    refused = denied(policies, checked)
    if refused:
        _reports.append(describe_denied(refused))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    wide, managed = any_resource(policies), foreign_managed(policies)
    if wide:
        _reports.append(describe_grants('Grants on any resource ("*") outside the allow-list:', wide))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if managed:
        _reports.append(describe_managed(managed))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if _whole_suite(session):
        unused = unexercised(policies, checked)
        _reports.append(
            describe_grants("Grants no test exercised:", unused)
            if unused
            else "IAM check: every grant was exercised"
        )
    if session.config.get_verbosity() > 0:
        _reports.extend(f"  {call.function}: {call.action} on {call.resource}" for call in sorted(made))
    _reports.append(f"IAM check: {len(made)} distinct calls recorded, {len(refused)} denied")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for report in _reports:
        terminalreporter.write_line(report)
