"""Flags a script can pass to every command alike: `--json` on each leaf command of the CLI."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

import pytest

from switchboard_ops.cli.main import build_parser

# `local up` runs the stack in the foreground and `local curl` prints a shell command: neither has a
# result to print as JSON.
NO_RESULT = {("local", "up"), ("local", "curl")}


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    subparsers = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not subparsers:
        yield path
    for action in subparsers:
        for name, child in action.choices.items():
            yield from leaf_commands(child, (*path, name))


def options(path: tuple[str, ...]) -> set[str]:
    parser = build_parser()
    for name in path:
        parser = next(
            action.choices[name]
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        )
    return {option for action in parser._actions for option in action.option_strings}


LEAVES = [path for path in leaf_commands(build_parser()) if path not in NO_RESULT]


def test_the_walk_finds_every_command():
    assert len(LEAVES) >= 25
    assert ("messages", "get") in LEAVES


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_every_command_that_prints_a_result_accepts_json(path):
    assert "--json" in options(path)


@pytest.mark.parametrize(
    "argv",
    [
        ["messages", "get", "--provider", "twilio", "--id", "SM1", "--json"],
        ["recipients", "get", "--phone", "+14155550123", "--json"],
        ["local", "invoke", "--list", "--json"],
    ],
    ids=" ".join,
)
def test_json_parses_on_commands_whose_output_was_json_only(argv):
    args = build_parser().parse_args(argv)
    assert args.as_json is True


def test_local_invoke_list_as_json_names_each_function_its_handler_and_samples(capsys):
    from switchboard_ops.cli.main import main

    assert main(["local", "invoke", "--list", "--json"]) == 0

    listed = json.loads(capsys.readouterr().out)
    ingest = next(item for item in listed if item["function"] == "IngestFunction")
    assert ingest["handler"] == "functions/ingest/app.handler"
    assert any(path.startswith("events/ingest/") for path in ingest["events"])


@pytest.mark.parametrize(
    "argv",
    [
        ["metrics", "daily", "--date", "yesterday", "--json"],
        ["messages", "get", "--provider", "twilio", "--json"],  # --id missing
        ["status", "--json", "--no-such-flag"],
    ],
    ids=" ".join,
)
def test_a_usage_error_under_json_is_a_json_error_on_stderr(argv, capsys):
    from switchboard_ops.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    error = json.loads(captured.err)
    assert error["error"] == "usage" and error["detail"]


def test_a_usage_error_without_json_stays_argparse_text(capsys):
    from switchboard_ops.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(["metrics", "daily", "--date", "yesterday"])

    assert exited.value.code == 2
    assert "usage: switchboard metrics daily" in capsys.readouterr().err


def test_table_headers_are_capitals_whatever_a_command_names_them():
    from switchboard_ops.cli.output import table

    assert table(["calendar", "due_at"], [["calcom", "2026-12-01"]]).splitlines()[0] == "CALENDAR  DUE_AT"
