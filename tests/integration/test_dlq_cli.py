"""`switchboard dlq redrive` against moto: what it says when a named message is not in the queue."""

from __future__ import annotations

import json

import pytest

from switchboard_ops.cli import dlq
from switchboard_ops.cli.main import main
from switchboard_ops.cli.target import Target


@pytest.fixture
def target(stack, monkeypatch) -> Target:
    resolved = Target(
        name="test", region="us-east-1", table_name=stack.tables["EventsTable"], queues=stack.queues
    )
    monkeypatch.setattr(dlq, "resolve", lambda args: resolved)
    return resolved


def test_an_unknown_id_redriven_with_json_is_one_json_error_on_stderr(target, capsys):
    # When an operator's script redrives a message id the dead-letter queue does not hold
    code = main(["dlq", "redrive", "--id", "no-such-message", "--json"])

    # Then exit 1 (not found), the result on stdout, and stderr is the JSON error every --json command gives
    out, err = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["not_found"] == ["no-such-message"]
    assert json.loads(err) == {
        "error": "not_found",
        "detail": "not in ProcessingDeadLetterQueue: no-such-message",
    }
