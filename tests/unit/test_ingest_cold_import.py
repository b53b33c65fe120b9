"""IngestFunction's cold import loads no third-party module beyond what every handler needs (boto3, pydantic,
Powertools Logger/Metrics): the floor docs/adr/0012 measures with bench/ingest's "required" snippet. No
timings are asserted; a provider SDK, the X-Ray SDK or an event-handler import on the hot path fails it."""

from __future__ import annotations

import sys

from switchboard_ops.project import ROOT

if str(ROOT) not in sys.path:  # bench/ sits beside tests/, outside the installed packages
    sys.path.insert(0, str(ROOT))

from bench.ingest.cold_import import imported_modules  # noqa: E402


def test_ingest_imports_nothing_third_party_beyond_the_required_libraries():
    # Given the modules bare boto3 + pydantic + Powertools Logger/Metrics + the 3 clients leave imported
    required = imported_modules("required")

    # When the ingest handler is loaded and its 3 clients created, in a fresh interpreter like the bench's
    ours = imported_modules("ours")

    # Then everything else it imported is first-party
    extra = sorted(name for name in ours - required if name.split(".")[0] != "switchboard")
    assert extra == [], f"the ingest cold start imports {extra}; lazy-load it or update docs/adr/0012"
