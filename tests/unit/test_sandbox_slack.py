"""The sandbox's Slack incoming webhook: records what it gets, answers Slack's plain-text shapes."""

from __future__ import annotations

import json

from switchboard_ops.sandbox import FaultRule
from switchboard_ops.sandbox.server import SandboxApp
from switchboard_ops.sandbox.wire import Request


def post(app: SandboxApp, body: bytes) -> tuple[int, bytes, dict[str, str]]:
    response = app.handle(Request.build("POST", "/slack/hook", {"Content-Type": "application/json"}, body))
    return response.status, response.body, dict(response.headers)


def test_a_notice_is_answered_ok_and_recorded(app: SandboxApp) -> None:
    assert post(app, json.dumps({"text": "Hot lead"}).encode())[:2] == (200, b"ok")
    listed = json.loads(app.handle(Request.build("GET", "/sandbox/slack")).body)
    assert listed == {"messages": ["Hot lead"]}


def test_a_notice_without_text_is_refused_as_slack_does(app: SandboxApp) -> None:
    assert post(app, b"{}")[:2] == (400, b"no_text")


def test_an_injected_429_carries_retry_after(app: SandboxApp) -> None:
    app.ctx.faults.add(FaultRule("/slack/", status=429))
    status, body, headers = post(app, json.dumps({"text": "Hot lead"}).encode())
    assert (status, body, headers.get("Retry-After")) == (429, b"rate_limited", "1")
