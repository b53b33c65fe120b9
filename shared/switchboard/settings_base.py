"""What every function's settings share: the loader that reads the environment once and fails fast with
a clear message, and one mixin per group of fields more than one function needs (each field once).

The mixins are plain classes whose annotated fields pydantic collects into the model that lists them as
bases: a BaseModel per mixin would build a schema each, on IngestFunction's cold start too.

Both switchboard.config (IngestFunction, on the webhook hot path) and switchboard.function_settings (the
other functions) build on this module; neither imports the other."""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigurationError(RuntimeError):
    pass


class Settings(BaseModel):
    """The base of every function's settings model: frozen, read once."""

    model_config = ConfigDict(frozen=True)


class EventsTableSettings:
    table_name: str = Field(min_length=1, alias="TABLE_NAME")


class ProcessingQueueSettings:
    processing_queue_url: str = Field(min_length=1, alias="PROCESSING_QUEUE_URL")


class WebhookSecretsSettings:
    webhook_secrets_name: str = Field(min_length=1, alias="WEBHOOK_SECRETS_NAME")


class RawPayloadSettings:
    """Functions that store events: where raw payloads too large for their item go (dal/raw_payloads.py)."""

    raw_payload_bucket: str = Field(min_length=1, alias="RAW_PAYLOAD_BUCKET")


class AlertsSettings:
    alerts_topic_arn: str = Field(min_length=1, alias="ALERTS_TOPIC_ARN")


class RolloutSettings:
    # The reminders' rollout flag (an SSM parameter name); empty: every recipient, never paused.
    reminders_rollout_parameter: str = Field(default="", alias="REMINDERS_ROLLOUT_PARAMETER")


class ProviderApiSettings:
    """The providers' REST APIs and their rate limits (sending and listing)."""

    # Empty = the providers' real APIs; the local stack points both at the sandbox provider.
    twilio_api_base_url: str = Field(default="", alias="TWILIO_API_BASE_URL")
    openphone_api_base_url: str = Field(default="", alias="OPENPHONE_API_BASE_URL")
    twilio_rate_per_second: float = Field(default=50.0, gt=0, alias="TWILIO_RATE_PER_SECOND")
    openphone_rate_per_second: float = Field(default=10.0, gt=0, alias="OPENPHONE_RATE_PER_SECOND")


SettingsT = TypeVar("SettingsT", bound=BaseModel)


def load_settings(model: type[SettingsT], function: str) -> SettingsT:
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        names = ", ".join(_variable(model, err["loc"]) for err in exc.errors())
        raise ConfigurationError(
            f"{function} is misconfigured; check environment variable(s): {names}"
        ) from exc


def _variable(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """The environment variable behind an error: a defaulted field's error carries its name, not its alias."""
    name = str(loc[0]) if loc else "?"
    field = model.model_fields.get(name)
    return field.alias if field is not None and field.alias else name
