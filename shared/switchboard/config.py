"""Settings read from the environment once per container, validated, failing fast with a clear message."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class IngestSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1, alias="TABLE_NAME")
    processing_queue_url: str = Field(min_length=1, alias="PROCESSING_QUEUE_URL")
    webhook_secrets_name: str = Field(min_length=1, alias="WEBHOOK_SECRETS_NAME")
    # Where raw payloads too large for their DynamoDB item go (dal/raw_payloads.py).
    raw_payload_bucket: str = Field(min_length=1, alias="RAW_PAYLOAD_BUCKET")
    # The base URL providers call (scheme://host[/base-path]) when a proxy or custom domain stands in
    # front of API Gateway; empty = rebuild it from the request's own Host and X-Forwarded-Proto.
    public_base_url: str = Field(default="", alias="PUBLIC_BASE_URL")
    max_body_bytes: int = Field(default=256 * 1024, gt=0, alias="MAX_BODY_BYTES")
    secrets_max_age_seconds: int = Field(default=300, ge=0, alias="SECRETS_MAX_AGE_SECONDS")


class ConfigurationError(RuntimeError):
    pass


SettingsT = TypeVar("SettingsT", bound=BaseModel)


def _load(model: type[SettingsT], function: str) -> SettingsT:
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        names = ", ".join(str(err["loc"][0]) for err in exc.errors())
        raise ConfigurationError(
            f"{function} is misconfigured; check environment variable(s): {names}"
        ) from exc


@lru_cache(maxsize=1)
def ingest_settings() -> IngestSettings:
    return _load(IngestSettings, "ingest")


def __getattr__(name: str) -> object:
    """Older imports (`from switchboard.config import worker_settings`) keep working, loaded lazily."""
    from switchboard import function_settings

    try:
        return getattr(function_settings, name)
    except AttributeError:
        raise AttributeError(f"module 'switchboard.config' has no attribute {name!r}") from None
