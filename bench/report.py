"""What every benchmark reports the same way: the run's machine facts, the JSON document and the table.

A document is `{"benchmark", "generated_at", "command", "quick", "git_commit", "python", "machine",
"packages", "figures", <the benchmark's own sections>, "all_targets_met"}`; each figure is a
`Figure.as_dict()` from bench.ingest.common (ours, baseline, ratio = ours / baseline, target, result).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_PACKAGES = ("boto3", "botocore", "moto", "aws-lambda-powertools", "twilio", "pydantic")
DEFAULT_BASELINE = "Powertools-style handler"  # bench.ingest.common.Figure's default baseline_name


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), cpu
            )
    except OSError:
        pass
    try:
        import psutil

        memory_gb: float | None = round(psutil.virtual_memory().total / 2**30, 1)
        load = [round(value, 2) for value in psutil.getloadavg()]
    except ImportError:
        memory_gb, load = None, []
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": memory_gb,
        "load_average_at_start": load,
    }


def versions() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_commit() -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    done = subprocess.run(  # noqa: S603 - read-only
        [git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None


def document(
    benchmark: str,
    figures: list[Any],
    *,
    quick: bool,
    argv: list[str],
    sections: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`figures` are bench.ingest.common.Figure; `sections` go between the figures and the verdict."""
    return {
        "benchmark": benchmark,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join([f".venv/bin/python -m bench.{benchmark}", *argv]).strip(),
        "quick": quick,
        "git_commit": git_commit(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "machine": machine(),
        "packages": versions(),
        "figures": [figure.as_dict() for figure in figures],
        **(sections or {}),
        "all_targets_met": all(figure.passed is not False for figure in figures),
    }


def number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def table(
    doc: dict[str, Any], *, extra: list[str] | None = None, default_baseline: str | None = DEFAULT_BASELINE
) -> str:
    """The figures as a table, the baselines that are not the default, `extra` lines, then the verdict.

    `default_baseline`: the baseline_name the header states once; None lists every figure's baseline.
    """
    header = ("figure", "unit", "ours", "baseline", "ratio", "target", "result")
    rows = [
        (
            figure["title"],
            figure["unit"],
            number(figure["ours"]),
            number(figure["baseline"]),
            "-" if figure["ratio"] is None else f"{figure['ratio']:.2f}",
            figure["target"],
            figure["result"],
        )
        for figure in doc["figures"]
    ]
    widths = [max(len(str(row[column])) for row in [header, *rows]) for column in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            str(cell).ljust(width) if column in (0, 1, 5, 6) else str(cell).rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    machine_ = doc["machine"]
    out = [
        f"Switchboard {doc['benchmark']} benchmark{' (--quick)' if doc['quick'] else ''}"
        f" — {doc['generated_at']} — commit {doc['git_commit'] or '?'}",
        f"Python {doc['python']['version']} on {machine_['platform']}; {machine_['cpu']},"
        f" {machine_['cpus_usable']} usable CPUs, {machine_['memory_gb']} GB;"
        f" load {machine_['load_average_at_start']}",
        "Ratio = ours / baseline, both from this run. "
        + (
            f"Baseline: the {default_baseline} unless noted."
            if default_baseline
            else "Each figure's baseline is noted below the table."
        ),
        "",
        line(header),
        line(tuple("-" * width for width in widths)),
        *(line(row) for row in rows),
        "",
    ]
    notes = [
        f"  {figure['title']}: baseline = {figure['baseline_name']}"
        for figure in doc["figures"]
        if figure["baseline_name"] != default_baseline
    ]
    if notes:
        out += ["Baselines noted:", *dict.fromkeys(notes), ""]
    out += extra or []
    out.append("All targets met." if doc["all_targets_met"] else "Some targets missed: see FAIL rows.")
    return "\n".join(out)


def publish(doc: dict[str, Any], output: Path, *, as_json: bool, render: Any) -> int:
    """Write the JSON document, then print it (--json) or its table; every bench ends this way."""
    import json

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {output}", file=sys.stderr)
    print(json.dumps(doc, indent=2) if as_json else render(doc))
    return 0
