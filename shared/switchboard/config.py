"""IngestFunction's settings, read from the environment once per container (kept apart from
switchboard.function_settings so the webhook hot path builds only its own model)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from switchboard.settings_base import (
    EventsTableSettings,
    ProcessingQueueSettings,
    RawPayloadSettings,
    Settings,
    WebhookSecretsSettings,
    load_settings,
)


class IngestSettings(
    Settings, EventsTableSettings, ProcessingQueueSettings, WebhookSecretsSettings, RawPayloadSettings
):
    # The base URL providers call (scheme://host[/base-path]) when a proxy or custom domain stands in
    # front of API Gateway; empty = rebuild it from the request's own Host and X-Forwarded-Proto.
    public_base_url: str = Field(default="", alias="PUBLIC_BASE_URL")
    max_body_bytes: int = Field(default=256 * 1024, gt=0, alias="MAX_BODY_BYTES")
    secrets_max_age_seconds: int = Field(default=300, ge=0, alias="SECRETS_MAX_AGE_SECONDS")


@lru_cache(maxsize=1)
def ingest_settings() -> IngestSettings:
    return load_settings(IngestSettings, "ingest")
