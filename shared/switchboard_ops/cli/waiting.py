"""Bounded polling for the commands that `--wait`: fetch until done, or a timeout CliError (exit 2)."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import TypeVar

from switchboard_ops.cli.output import CliError

T = TypeVar("T")
TIMED_OUT = 2


def timeout_seconds(value: str) -> float:
    """--timeout: a finite number of seconds, 0 or more (checked before the command sends anything)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise argparse.ArgumentTypeError(f"--timeout must be a number of seconds, 0 or more, got {value!r}")
    return seconds


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.5,
    describe: Callable[[T], str] = str,
) -> T:
    """`fetch()` every `interval` s until `done(value)`; past `timeout` s, a CliError with the last value."""
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() >= deadline:
            raise CliError(
                f"{what}: still {describe(value)} after {timeout:g} s (--timeout to wait longer)",
                error="timeout",
                exit_code=TIMED_OUT,
            )
        time.sleep(interval)
