"""`.local/stack.json`: what a running local stack tells the CLI and the tests (URLs, resource names, the
local signing secrets). Written atomically once the stack is ready, removed when it stops."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from switchboard_ops.project import ROOT

STATE_DIR_ENV = "SWITCHBOARD_STATE_DIR"
STATE_FILE = "stack.json"


def state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV) or ROOT / ".local")


def state_path() -> Path:
    return state_dir() / STATE_FILE


def write_state(state: dict[str, Any]) -> Path:
    """Write to a temporary name, then rename: a reader sees no file or a whole one, never half."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state, indent=2) + "\n")
    temporary.replace(path)
    return path


def read_state() -> dict[str, Any] | None:
    """The running stack's state, or None when no stack has written one."""
    try:
        state = json.loads(state_path().read_text())
    except FileNotFoundError:
        return None
    return state if isinstance(state, dict) else None


def remove_state(owner_pid: int | None = None) -> None:
    """Remove the state file, only if it is ours (another stack may have replaced it)."""
    state = read_state()
    if state is None or (owner_pid is not None and state.get("pid") != owner_pid):
        return
    state_path().unlink(missing_ok=True)


def pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
