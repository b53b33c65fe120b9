"""`make build`'s second step, scripts/precompile_artifacts.py: the deployed handlers import from bytecode.

A `sam build` output is copied the way Lambda sees it: a function directory and layers, zipped as
`sam package` zips them (every file dated 1980-01-01) and unpacked with those dates, then imported by a fresh
interpreter that cannot write bytecode (Lambda's code directories are read-only), with the function and
layers first on sys.path and this environment's site-packages standing for the rest. Each compile from source
is counted.
"""

from __future__ import annotations

import compileall
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = f"python{sys.version_info[0]}.{sys.version_info[1]}"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # ZipInfo's default date_time


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "precompile_artifacts", ROOT / "scripts" / "precompile_artifacts.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_output(directory: Path, runtime: str = RUNTIME) -> Path:
    """What `sam build` leaves for IngestFunction: its app.py, SharedLayer's python/, and no bytecode."""
    directory.mkdir()
    (directory / "template.yaml").write_text(f"Globals:\n  Function:\n    Runtime: {runtime}\n")
    (directory / "IngestFunction").mkdir()
    shutil.copy(ROOT / "functions" / "ingest" / "app.py", directory / "IngestFunction" / "app.py")
    shutil.copytree(
        ROOT / "shared" / "switchboard",
        directory / "SharedLayer" / "python" / "switchboard",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return directory


def _as_lambda_unpacks_it(build: Path, destination: Path) -> Path:
    """Zipped as `sam package` does (ZipInfo's default date) and unpacked keeping those dates."""
    archive = destination.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as packed:
        for path in sorted(build.rglob("*")):
            if path.is_file():
                packed.writestr(zipfile.ZipInfo(str(path.relative_to(build))), path.read_bytes())
    with zipfile.ZipFile(archive) as packed:
        packed.extractall(destination)
        stamp = time.mktime((*ZIP_EPOCH, 0, 0, -1))
        for member in packed.namelist():
            os.utime(destination / member, (stamp, stamp))
    return destination


_COUNT_COMPILES = """
import importlib, importlib._bootstrap_external as external, json, os, sys
root = sys.argv[1]
layer = os.path.join(root, 'SharedLayer', 'python')
sys.path[:0] = [os.path.join(root, 'IngestFunction'), layer, sys.argv[2]]
compiled = []
original = external.SourceLoader.source_to_code
def counting(self, data, path, *args, **kwargs):
    if str(path).startswith(root):
        compiled.append(os.path.relpath(path, root))
    return original(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = counting
importlib.import_module('app')
print(json.dumps(compiled))
"""


def _compiled_at_cold_start(artifact: Path) -> list[str]:
    """The modules under artifact a cold import of the ingest handler compiles from source."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("PYTHONPATH", "AWS_ENDPOINT"))
    }
    environment.update(
        PYTHONDONTWRITEBYTECODE="1", AWS_DEFAULT_REGION="us-east-1", POWERTOOLS_TRACE_DISABLED="true"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our snippet
        [sys.executable, "-S", "-c", _COUNT_COMPILES, str(artifact), sysconfig.get_paths()["purelib"]],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_as_sam_build_leaves_it_every_cold_start_compiles_the_handlers_modules(tmp_path: Path) -> None:
    # Given a build output with no bytecode, as `sam build` leaves it
    build = _build_output(tmp_path / "build")
    # When Lambda unpacks it and imports the handler
    compiled = _compiled_at_cold_start(_as_lambda_unpacks_it(build, tmp_path / "deployed"))
    # Then the handler and every first-party module it imports are compiled from source
    assert "IngestFunction/app.py" in compiled
    assert "SharedLayer/python/switchboard/services/ingest.py" in compiled


def test_after_the_precompile_step_a_cold_start_compiles_nothing(tmp_path: Path) -> None:
    # Given the same build output, precompiled
    build = _build_output(tmp_path / "build")
    counts = _script().precompile(build)
    # When Lambda unpacks it with the zip's 1980 dates and imports the handler
    compiled = _compiled_at_cold_start(_as_lambda_unpacks_it(build, tmp_path / "deployed"))
    # Then every module comes from its bytecode
    assert compiled == []
    assert counts["modules"] == sum(1 for _ in build.rglob("*.py"))


def test_bytecode_that_checks_the_source_date_is_ignored_after_the_zip(tmp_path: Path) -> None:
    # Given the build output compiled the default way (the pyc records each source's modification time)
    build = _build_output(tmp_path / "build")
    assert compileall.compile_dir(build, quiet=2)
    # When the zip resets every date to 1980 and the handler is imported
    compiled = _compiled_at_cold_start(_as_lambda_unpacks_it(build, tmp_path / "deployed"))
    # Then that bytecode is stale and the modules are compiled anyway: why the step writes unchecked-hash pycs
    assert "SharedLayer/python/switchboard/services/ingest.py" in compiled


def test_bytecode_of_another_python_than_the_runtime_is_refused(tmp_path: Path) -> None:
    # Given a template whose runtime is not this interpreter
    build = _build_output(tmp_path / "build", runtime="python3.99")
    # When the step runs
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "scripts" / "precompile_artifacts.py"), str(build)],
        capture_output=True,
        text=True,
        check=False,
    )
    # Then it fails with the reason, and writes nothing
    assert done.returncode == 1
    assert "runtime is python3.99" in done.stderr
    assert not list(build.rglob("*.pyc"))


def test_a_function_and_its_layers_over_lambdas_unzipped_limit_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a limit the build output exceeds
    script = _script()
    monkeypatch.setattr(script, "UNZIPPED_LIMIT_BYTES", 1024)
    build = _build_output(tmp_path / "build")
    # When the step runs, then it refuses the build
    with pytest.raises(script.PrecompileError, match="Lambda allows 250"):
        script.precompile(build)


def test_make_build_runs_the_step_on_sam_builds_output() -> None:
    # Given the Makefile, when `make build` is dry-run
    done = subprocess.run(["make", "-n", "build"], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S607
    commands = done.stdout.splitlines()
    # Then the precompile step comes after `sam build`, on its output directory
    sam_build = next(number for number, command in enumerate(commands) if command.endswith("sam build"))
    assert any(
        "scripts/precompile_artifacts.py .aws-sam/build" in command for command in commands[sam_build + 1 :]
    )
