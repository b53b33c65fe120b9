"""The README's newcomer map (capability -> template resource -> handler -> service -> dal / providers) must
name only things that exist, and must name every function and webhook route: otherwise it rots silently."""

from __future__ import annotations

import re
from pathlib import Path

from switchboard.providers import ROUTES
from switchboard_ops.local.template import load_template, resources_of_type
from switchboard_ops.project import ROOT

MAP_HEADING = "**Where each behaviour lives**"
# Names the map may list before they exist (none today).
PLANNED: set[str] = set()
LOGICAL_ID = re.compile(r"^[A-Z][A-Za-z0-9]+$")


def map_rows(readme: str) -> list[list[str]]:
    """Every data row of the tables after the map's heading (until the next paragraph), as cells."""
    section = readme.split(MAP_HEADING, 1)[1].split("\n`make ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    return [row for row in cells if row[0] not in ("Capability", "CLI command")]


def quoted(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def module_path(name: str) -> Path:
    """`functions/...` from the root, `switchboard_ops/...` under shared/, the rest under switchboard/."""
    if name.startswith("functions/"):
        return ROOT / name
    if name.startswith("switchboard_ops/"):
        return ROOT / "shared" / name
    return ROOT / "shared" / "switchboard" / name


def readme_rows() -> list[list[str]]:
    return map_rows((ROOT / "README.md").read_text())


def test_the_map_has_a_row_for_each_capability_and_cli_command():
    rows = readme_rows()

    assert len([row for row in rows if len(row) == 5]) >= 20  # capability rows
    assert len([row for row in rows if len(row) == 4]) >= 10  # CLI rows


def test_every_module_the_map_names_exists_or_is_planned():
    names = {name for row in readme_rows() for cell in row for name in quoted(cell) if name.endswith(".py")}

    missing = sorted(name for name in names - PLANNED if not module_path(name).is_file())

    assert len(names) > 50
    assert missing == []


def test_every_template_resource_the_map_names_exists_or_is_planned():
    resources = load_template()["Resources"]
    named = {name for row in readme_rows() if len(row) == 5 for name in quoted(row[1])}

    assert named and all(LOGICAL_ID.match(name) for name in named)
    assert sorted(named - PLANNED - resources.keys()) == []


def test_each_rows_handler_is_the_one_its_template_resource_runs():
    functions = resources_of_type(load_template(), "AWS::Serverless::Function")
    wrong = []
    for row in readme_rows():
        if len(row) != 5 or quoted(row[1])[0] in PLANNED:
            continue
        properties = functions[quoted(row[1])[0]]
        runs = f"{properties['CodeUri'].rstrip('/')}/{properties['Handler'].split('.')[0]}.py"
        if quoted(row[2]) != [runs]:
            wrong.append((row[0], quoted(row[2]), runs))

    assert wrong == []


def test_every_function_in_the_template_has_a_row():
    functions = resources_of_type(load_template(), "AWS::Serverless::Function")
    named = {name for row in readme_rows() if len(row) == 5 for name in quoted(row[1])}

    assert sorted(functions.keys() - named) == []


def test_every_webhook_route_has_a_row():
    text = " ".join(cell for row in readme_rows() for cell in row)

    assert [route.name for route in ROUTES.values() if f"/webhooks/{route.name}`" not in text] == []


def test_every_planned_entry_is_still_named_by_the_map():
    # an allowance nobody uses would let a typo of a real path pass as "planned"
    names = {name for row in readme_rows() for cell in row for name in quoted(cell)}

    assert sorted(PLANNED - names) == []
