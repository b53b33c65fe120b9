"""How the CLI speaks: JSON for scripts (stdout), aligned tables for people, errors on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any, NoReturn, TextIO


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


_usage_errors_as_json: ContextVar[bool] = ContextVar("usage_errors_as_json", default=False)


@contextmanager
def usage_errors_as_json(argv: Sequence[str]) -> Iterator[None]:
    """While parsing `argv`: a usage error is JSON when the command line asks for --json."""
    token = _usage_errors_as_json.set("--json" in argv)
    try:
        yield
    finally:
        _usage_errors_as_json.reset(token)


class CliParser(argparse.ArgumentParser):
    """argparse's parser (its subcommands' parsers are this class too), except that under --json a usage
    error (a missing or unknown argument, a bad --date) is a JSON error on stderr like every other error.
    Exits 2 either way."""

    def error(self, message: str) -> NoReturn:
        if not _usage_errors_as_json.get():
            super().error(message)
        print_error(CliError(f"{self.prog}: {message}", error="usage"), as_json=True)
        self.exit(2)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[int] = ()) -> str:
    """Columns padded to their widest cell under capital headers; the `numeric` columns right-aligned."""
    cells = [[str(header).upper() for header in headers], *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    lines = []
    for row in cells:
        padded = [
            cell.rjust(widths[index]) if index in numeric else cell.ljust(widths[index])
            for index, cell in enumerate(row)
        ]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)
