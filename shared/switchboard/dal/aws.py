"""boto3 clients created lazily, once per container; AWS_ENDPOINT_URL points them at moto locally."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

# Webhook callers wait at most 15 s (Twilio); fail fast and let the provider retry instead.
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.client(service, config=_CLIENT_CONFIG)
