"""Writes the bytecode of every module in a `sam build` output, so no cold start compiles them in Lambda.

`sam build` copies no `__pycache__` (its Python builder excludes `*.pyc`) and Lambda's code directories are
read-only, so without this every import compiles its module from source on every cold start (docs/adr/0019).
The bytecode is "unchecked-hash": `sam package` zips every file with the date 1980-01-01, so a pyc that
checks the source's modification time would never match and would be ignored.

Run it with the Python of the template's runtime (a pyc is only read by the minor version that wrote it);
it checks that, compiles each artifact directory, then checks that every module got its bytecode and that the
largest function with every layer stays inside Lambda's 250 MB unzipped limit (the bytecode adds ~50%).

Usage: python3.12 scripts/precompile_artifacts.py .aws-sam/build
"""

from __future__ import annotations

import compileall
import importlib.util
import py_compile
import re
import sys
from pathlib import Path

UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024  # a function and all of its layers, unzipped
_RUNTIME = re.compile(r"^\s*Runtime:\s*python(\d+)\.(\d+)\s*$", re.MULTILINE)


class PrecompileError(Exception):
    pass


def runtime_version(build_dir: Path) -> tuple[int, int]:
    """The Python minor version every function in the built template runs on."""
    versions = {
        (int(major), int(minor))
        for major, minor in _RUNTIME.findall((build_dir / "template.yaml").read_text())
    }
    if len(versions) != 1:
        raise PrecompileError(
            f"expected one python runtime in {build_dir}/template.yaml, found {sorted(versions)}"
        )
    return versions.pop()


def modules_without_bytecode(directory: Path) -> list[Path]:
    return [
        source
        for source in directory.rglob("*.py")
        if not Path(importlib.util.cache_from_source(source)).exists()
    ]


def tree_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def precompile(build_dir: Path) -> dict[str, int]:
    """Compiles every artifact directory under build_dir; returns the counts it checked."""
    wanted = runtime_version(build_dir)
    if sys.version_info[:2] != wanted:
        raise PrecompileError(
            f"the template's runtime is python{wanted[0]}.{wanted[1]} but this is "
            f"python{sys.version_info[0]}.{sys.version_info[1]}: its bytecode would be ignored in Lambda"
        )
    artifacts = sorted(path for path in build_dir.iterdir() if path.is_dir())
    for artifact in artifacts:
        compileall.compile_dir(
            artifact,
            quiet=2,
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    missing = [path for artifact in artifacts for path in modules_without_bytecode(artifact)]
    if missing:  # it would not import in Lambda either
        raise PrecompileError(f"{len(missing)} modules do not compile, e.g. {missing[0]}")
    layers = [path for path in artifacts if (path / "python").is_dir()]
    functions = [path for path in artifacts if path not in layers]
    largest = sum(tree_bytes(path) for path in layers) + max(
        (tree_bytes(path) for path in functions), default=0
    )
    if largest > UNZIPPED_LIMIT_BYTES:
        raise PrecompileError(
            f"a function with its layers is {largest / 2**20:.0f} MB unzipped; Lambda allows 250"
        )
    return {
        "modules": sum(1 for artifact in artifacts for _ in artifact.rglob("*.py")),
        "largest_function_with_layers_bytes": largest,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        counts = precompile(Path(argv[0]))
    except PrecompileError as error:
        print(f"precompile: {error}", file=sys.stderr)
        return 1
    print(
        f"precompile: {counts['modules']} modules, all compiled; "
        f"largest function with its layers {counts['largest_function_with_layers_bytes'] / 2**20:.0f} MB "
        "unzipped (limit 250)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
