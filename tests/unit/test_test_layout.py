"""pytest imports test modules by basename (rootdir mode): two files with one name break collection."""

from __future__ import annotations

from collections import Counter

from switchboard_ops.project import ROOT


def test_test_module_names_are_unique_across_tiers():
    names = Counter(path.name for path in (ROOT / "tests").rglob("test_*.py"))

    assert [name for name, count in names.items() if count > 1] == []
