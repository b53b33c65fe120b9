"""bench/reminders at a tiny size, so it cannot rot: its figures are produced and the kill-and-rerun
figure holds (no provider send beyond one per reminder). Counts only, never a timing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from switchboard_ops.project import ROOT

if str(ROOT) not in sys.path:  # bench/ sits beside tests/, outside the installed packages
    sys.path.insert(0, str(ROOT))

from bench.reminders.__main__ import main  # noqa: E402


def test_the_bench_runs_at_a_tiny_size_and_the_rerun_after_a_kill_sends_nothing_twice(tmp_path: Path):
    output = tmp_path / "reminders.json"

    assert main(["--count", "40", "--output", str(output), "--json"]) == 0

    figures = {figure["key"]: figure for figure in json.loads(output.read_text())["figures"]}
    assert set(figures) == {
        "dispatch_calls",
        "end_to_end_calls",
        "tick_to_last_enqueued",
        "duplicates_after_kill",
    }
    killed = figures["duplicates_after_kill"]
    assert (killed["ours"], killed["result"]) == (0, "pass")
    assert killed["detail"]["queue_copies"] > 0  # the kill left enqueued-but-unclaimed copies to absorb
    assert figures["dispatch_calls"]["ours"] < figures["dispatch_calls"]["baseline"]
