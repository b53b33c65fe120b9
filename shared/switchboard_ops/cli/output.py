"""How the CLI speaks: JSON for scripts (stdout), aligned tables for people, errors on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TextIO


class CliError(Exception):
    """A failure the user can act on: printed without a trace, exits with `exit_code`."""

    def __init__(self, detail: str, *, error: str = "error", exit_code: int = 2) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error = error
        self.exit_code = exit_code


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: whole ones print as ints, the rest as floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


JSON_EITHER_WAY = "accepted for scripts: this command prints JSON either way"


def add_json_flag(parser: argparse.ArgumentParser, help: str = "machine-readable output") -> None:
    """`--json` (as `args.as_json`): every command that prints a result takes it, so a script passes it
    everywhere; on a command whose output is JSON anyway it changes nothing."""
    parser.add_argument("--json", action="store_true", dest="as_json", help=help)


def print_json(value: Any, out: TextIO | None = None) -> None:
    print(json.dumps(value, indent=2, default=_plain, ensure_ascii=False), file=out or sys.stdout)


def print_error(error: CliError, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": error.error, "detail": error.detail}), file=sys.stderr)
    else:
        print(f"switchboard: {error.detail}", file=sys.stderr)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[int] = ()) -> str:
    """Columns padded to their widest cell; the `numeric` columns right-aligned."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    lines = []
    for row in cells:
        padded = [
            cell.rjust(widths[index]) if index in numeric else cell.ljust(widths[index])
            for index, cell in enumerate(row)
        ]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)
