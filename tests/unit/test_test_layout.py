"""pytest imports test modules by basename (rootdir mode): two files with one name break collection."""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from switchboard_ops.project import ROOT


def test_test_module_names_are_unique_across_tiers():
    names = Counter(path.name for path in (ROOT / "tests").rglob("test_*.py"))

    assert [name for name, count in names.items() if count > 1] == []


@pytest.mark.parametrize("target", ["test", "test-unit", "test-integration", "test-e2e"])
def test_every_test_target_runs_on_the_same_two_workers(target):
    # Given the Makefile; When make prints the target's commands without running them
    done = subprocess.run(  # noqa: S603 - our Makefile
        ["make", "-n", target],  # noqa: S607 - make from PATH, as a newcomer runs it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    # Then the pytest line has make test's xdist flags: a tier run alone is not a different test run
    pytest_line = next(line for line in done.stdout.splitlines() if "/pytest" in line)
    assert "-n 2 --dist loadfile --no-loadscope-reorder" in pytest_line
