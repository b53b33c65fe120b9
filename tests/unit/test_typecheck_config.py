"""`make typecheck` checks what it claims: first-party code resolves in every mypy run (a handler's calls into
switchboard are checked, not Any), only untyped third-party packages skip import checks, and every test tier
and bench/ are covered."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from switchboard_ops.project import ROOT

FIRST_PARTY = ("switchboard", "switchboard_ops", "bench")


def mypy_config() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def test_a_handlers_wrong_call_into_switchboard_is_reported(tmp_path: Path) -> None:
    # Given a handler-like module outside shared/, as functions/<name>/app.py is, calling switchboard wrongly
    handler = tmp_path / "app.py"
    handler.write_text('from switchboard.sqs_batch import run_batch\n\nrun_batch({}, 42, "not a callable")\n')

    # When mypy checks it alone, as make typecheck checks each handler, with the project's configuration
    done = subprocess.run(  # noqa: S603 - this interpreter's mypy
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
        + ["--cache-dir", str(tmp_path / "cache"), str(handler)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    # Then the call is an error: switchboard was found and typed (unresolved, it would be Any and pass)
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'Argument 2 to "run_batch" has incompatible type "int"' in done.stdout


def test_import_checks_are_skipped_only_for_named_third_party_packages() -> None:
    config = mypy_config()

    skipped = [
        module
        for override in config.get("overrides", [])
        if override.get("ignore_missing_imports")
        for module in ([override["module"]] if isinstance(override["module"], str) else override["module"])
    ]

    assert "ignore_missing_imports" not in config  # globally it would turn an unresolved switchboard into Any
    assert "shared" in config["mypy_path"]
    assert skipped and not [module for module in skipped if module.split(".")[0] in FIRST_PARTY]


def test_typecheck_covers_bench_and_every_test_tier() -> None:
    # Given the Makefile; When make prints typecheck's commands without running them
    done = subprocess.run(  # noqa: S603 - our Makefile
        ["make", "-n", "typecheck"],  # noqa: S607 - make from PATH, as a newcomer runs it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    mypy_lines = [line for line in done.stdout.splitlines() if "/mypy" in line]
    tiers = sorted(f"tests/{path.parent.name}" for path in (ROOT / "tests").glob("*/conftest.py"))

    # Then each tier (a directory with its own conftest) has a run, so do tests/'s own helpers and bench/
    assert tiers and [tier for tier in tiers if not any(tier in line for line in mypy_lines)] == []
    assert any("tests/*.py" in line for line in mypy_lines)
    assert "bench" in mypy_config()["files"]
