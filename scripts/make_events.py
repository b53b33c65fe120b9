"""Regenerates events/ingest/*.json (API Gateway v2 events, signed with the local test secrets) from
events/payloads/*.json. Run after editing a payload: `.venv/bin/python scripts/make_events.py`.

A payload file: {"route": "twilio", "content_type": "...", "body": "<raw body>",
                 "headers": {...optional extra headers...}, "path_suffix": "?optional=query"}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from switchboard_ops.local.apigw import http_api_event
from switchboard_ops.local.signing import signed_headers

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = ROOT / "events" / "payloads"
OUT = ROOT / "events" / "ingest"
BASE_URL = "http://127.0.0.1:3000"  # the local stack's default address: curl and sam local alike
EVENTS_NOW = 1795593600  # 2026-11-25T08:00:00Z: tests pin their clock here for timestamped schemes


def build(name: str, payload: dict) -> dict:
    url = f"{BASE_URL}/webhooks/{payload['route']}{payload.get('path_suffix', '')}"
    body = payload["body"].encode("utf-8")
    headers = signed_headers(
        payload["route"], url, body, payload["content_type"], now=EVENTS_NOW, extra=payload.get("headers")
    )
    return http_api_event(url, body, headers, now=EVENTS_NOW, request_id=f"sample-{name}")


def render_all() -> dict[str, str]:
    return {
        f"{source.stem}.json": json.dumps(
            build(source.stem, json.loads(source.read_text())), indent=2, sort_keys=True
        )
        + "\n"
        for source in sorted(PAYLOADS.glob("*.json"))
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (OUT / name).write_text(text)
        print(f"wrote events/ingest/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
