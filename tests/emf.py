"""Reading the metrics a handler printed: Powertools writes each flush as one EMF JSON document per line."""

from __future__ import annotations

import json


def emitted(output: str, name: str) -> float:
    """The sum of metric `name` over the EMF documents in captured stdout."""
    total = 0.0
    for line in output.splitlines():
        if '"_aws"' in line and f'"{name}"' in line:
            value = json.loads(line)[name]
            total += sum(value) if isinstance(value, list) else value
    return total
