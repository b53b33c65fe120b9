"""Signs a webhook body the way its provider would, with the local test secrets (or given ones)."""

from __future__ import annotations

import time
from typing import Any

from switchboard.providers import ROUTES
from switchboard_ops.local.secrets import LOCAL_SECRETS


def signed_headers(
    route: str,
    url: str,
    body: bytes,
    content_type: str,
    *,
    secrets: dict[str, dict[str, Any]] | None = None,
    now: float | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    module = ROUTES[route].load().module
    client_secrets = (secrets or LOCAL_SECRETS)[module.SECRET_NAME]
    headers = {"content-type": content_type, **(extra or {})}
    headers.update(module.signature_headers(url, body, client_secrets, time.time() if now is None else now))
    return headers
