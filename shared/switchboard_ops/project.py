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
    return module
