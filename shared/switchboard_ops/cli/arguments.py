"""Argument types more than one command takes."""

from __future__ import annotations

import argparse

RETENTION_DAYS = 400  # how long the daily rows (AI usage, reminder numbers) are kept


def days_back(value: str) -> int:
    """--days: a whole number of days up to the rows' retention ("1.5", "²" and "1e9" are refused with the
    rule, not argparse's "invalid value")."""
    if not value.isdecimal() or not 1 <= int(value) <= RETENTION_DAYS:  # isdigit() lets "²" through to int()
        raise argparse.ArgumentTypeError(
            f"--days must be a whole number from 1 to {RETENTION_DAYS} (their retention), got {value!r}"
        )
    return int(value)
