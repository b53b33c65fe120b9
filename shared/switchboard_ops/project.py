"""Where the project's files are, and loaders for them shared by the local stack, tests and benches."""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FUNCTIONS = ROOT / "functions"


def load_event(name: str) -> dict[str, Any]:
    """events/<name>.json — the same files `sam local invoke -e` uses."""
    return json.loads((EVENTS / f"{name}.json").read_text())


@cache
def load_handler(function_dir: str) -> ModuleType:
    """functions/<dir>/app.py loaded by file, as Lambda does; `switchboard` comes from the layer."""
    path = FUNCTIONS / function_dir / "app.py"
    spec = importlib.util.spec_from_file_location(f"functions.{function_dir}.app", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _attribute_calls(module, function_dir)
    return module


def _attribute_calls(module: ModuleType, function_dir: str) -> None:
    """While an IAM call recorder runs (tests, a recording local stack), the handler's AWS calls are its
    function's: the template's logical id whose CodeUri is functions/<dir>/."""
    from switchboard_ops.iam import calls

    if calls.installed() is None:
        return
    from switchboard_ops.local.functions import function_specs
    from switchboard_ops.local.template import load_template

    for spec in function_specs(load_template()).values():
        if spec.code_dir == function_dir and hasattr(module, spec.handler):
            setattr(module, spec.handler, calls.attributing(spec.logical_id, getattr(module, spec.handler)))
