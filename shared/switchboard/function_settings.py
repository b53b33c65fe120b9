"""Settings of the functions off the webhook hot path (worker, sender, health check, reconcile).

Kept apart from switchboard.config so IngestFunction's cold start builds only its own settings model;
shared fields come from the mixins in switchboard.settings_base.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from switchboard.container import once_per_container
from switchboard.models.ai_usage import DEFAULT_PRICES, ModelPrice
from switchboard.retry import PROCESSING_JOBS
from switchboard.settings_base import (
    AlertsSettings,
    EventsTableSettings,
    ProcessingQueueSettings,
    ProviderApiSettings,
    RawPayloadSettings,
    RolloutSettings,
    Settings,
    WebhookSecretsSettings,
    load_settings,
)


class WorkerSettings(
    Settings, EventsTableSettings, ProcessingQueueSettings, WebhookSecretsSettings, RolloutSettings
):
    processing_dlq_url: str = Field(min_length=1, alias="PROCESSING_DLQ_URL")
    # Comma-separated subset of consent,classify,rollup,draft,delivery; empty = all of them.
    pipeline_steps: str = Field(default="", alias="PIPELINE_STEPS")
    # Comma-separated providers whose positive replies' drafts are approved and sent by policy (e.g.
    # "instantly,smartlead"); empty = off: every draft waits for `switchboard drafts approve`.
    auto_send_providers: str = Field(
        default="",
        pattern=r"^\s*((twilio|openphone|ghl|smartlead|instantly|unipile)\s*(,\s*|$))*$",
        alias="AUTO_SEND_PROVIDERS",
    )
    # Where an auto-approved draft's send request goes (the sender's queue).
    outbound_queue_url: str = Field(default="", alias="OUTBOUND_QUEUE_URL")
    backoff_base_seconds: int = Field(
        default=PROCESSING_JOBS.base_seconds, ge=0, alias="BACKOFF_BASE_SECONDS"
    )
    backoff_cap_seconds: int = Field(default=PROCESSING_JOBS.cap_seconds, ge=0, alias="BACKOFF_CAP_SECONDS")
    backoff_jitter: bool = Field(default=PROCESSING_JOBS.jitter, alias="BACKOFF_JITTER")
    # Longer than the worker's timeout, so a live worker is never taken over; a crashed one is.
    job_lease_seconds: int = Field(default=120, gt=0, alias="JOB_LEASE_SECONDS")
    # Off by default (empty: the rules classifier). bedrock = the Converse API through boto3 (IAM);
    # openai = any OpenAI-compatible chat completions endpoint, its key the secret's "llm"."api_key".
    llm_provider: str = Field(default="", pattern="^(|bedrock|openai)$", alias="LLM_PROVIDER")
    llm_model: str = Field(default="", alias="LLM_MODEL", validate_default=True)
    # openai: the API base with its version path (https://api.openai.com/v1); bedrock: an endpoint
    # override (empty: the region's bedrock-runtime).
    llm_base_url: str = Field(default="", alias="LLM_BASE_URL", validate_default=True)
    llm_timeout_seconds: float = Field(default=10.0, gt=0, le=60, alias="LLM_TIMEOUT_SECONDS")
    # JSON {"model": {"input": USD/1M, "output": USD/1M, "verified_at": "YYYY-MM-DD"}}, over the defaults.
    llm_prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES), alias="LLM_PRICES"
    )
    # Local stack and tests only: a message whose body contains "#fail" fails ("#fail3": its first 3 tries).
    fault_injection: bool = Field(default=False, alias="SWITCHBOARD_FAULT_INJECTION")
    # "" (off) or "us_states": narrower send windows in some US states. Configuration, not legal advice.
    reminder_compliance_profile: Literal["", "us_states"] = Field(
        default="", alias="REMINDER_COMPLIANCE_PROFILE"
    )
    # "on": per-recipient A/B arms (text, lead time) on each reminder (services/reminders/variants.py).
    reminder_variants: Literal["off", "on"] = Field(default="off", alias="REMINDER_VARIANTS")

    @property
    def auto_send_provider_set(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.auto_send_providers.split(",") if name.strip())

    @field_validator("llm_prices", mode="before")
    @classmethod
    def _prices_over_defaults(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}
        return {**DEFAULT_PRICES, **value} if isinstance(value, dict) else value

    @field_validator("llm_model")
    @classmethod
    def _a_provider_needs_a_model(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("llm_provider") and not value.strip():
            raise ValueError("LLM_PROVIDER needs LLM_MODEL")
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _openai_needs_a_base_url(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("llm_provider") == "openai" and not value.strip():
            raise ValueError("LLM_PROVIDER=openai needs LLM_BASE_URL (e.g. https://api.openai.com/v1)")
        return value


@once_per_container
def worker_settings() -> WorkerSettings:
    return load_settings(WorkerSettings, "worker")


class ReplyApiSettings:
    """The reply APIs an auto-reply goes out through (outbound-apis.md 1-4): base URLs and rates."""

    # Empty = the provider's real API; the local stack points them at the sandbox provider.
    ghl_api_base_url: str = Field(default="", alias="GHL_API_BASE_URL")
    smartlead_api_base_url: str = Field(default="", alias="SMARTLEAD_API_BASE_URL")
    instantly_api_base_url: str = Field(default="", alias="INSTANTLY_API_BASE_URL")
    # Unipile's is per account (its DSN): https://apiN.unipile.com:PORT
    unipile_api_base_url: str = Field(default="", alias="UNIPILE_API_BASE_URL")
    # Published limits: GHL 100 per 10 s, SmartLead 60/min, Instantly 100/s; Unipile's are per account.
    ghl_rate_per_second: float = Field(default=10.0, gt=0, alias="GHL_RATE_PER_SECOND")
    smartlead_rate_per_second: float = Field(default=1.0, gt=0, alias="SMARTLEAD_RATE_PER_SECOND")
    instantly_rate_per_second: float = Field(default=10.0, gt=0, alias="INSTANTLY_RATE_PER_SECOND")
    unipile_rate_per_second: float = Field(default=1.0, gt=0, alias="UNIPILE_RATE_PER_SECOND")

    def reply_api(self, provider: str) -> tuple[Any, str | None, float]:
        """(client module, base URL or None for the real API, requests a second) of a reply provider."""
        from importlib import import_module

        module = import_module(f"switchboard.providers.{provider}_send")
        return (
            module,
            getattr(self, f"{provider}_api_base_url") or None,
            getattr(self, f"{provider}_rate_per_second"),
        )


class SenderSettings(
    Settings,
    EventsTableSettings,
    ProcessingQueueSettings,
    WebhookSecretsSettings,
    ProviderApiSettings,
    ReplyApiSettings,
):
    outbound_queue_url: str = Field(min_length=1, alias="OUTBOUND_QUEUE_URL")
    outbound_dlq_url: str = Field(min_length=1, alias="OUTBOUND_DLQ_URL")
    # Where providers send status callbacks: the API's public base URL (…/webhooks/twilio/status).
    callback_base_url: str = Field(default="", alias="CALLBACK_BASE_URL")
    # = the event source's MaximumConcurrency: each instance takes its share of the provider's limit.
    sender_concurrency: int = Field(default=2, ge=1, alias="SENDER_CONCURRENCY")


@once_per_container
def sender_settings() -> SenderSettings:
    return load_settings(SenderSettings, "sender")


class PlannerSettings(Settings, EventsTableSettings, WebhookSecretsSettings, RolloutSettings):
    """The daily reminder planner: the worker's rules, judged again when a recipient's day begins."""

    reminder_compliance_profile: Literal["", "us_states"] = Field(
        default="", alias="REMINDER_COMPLIANCE_PROFILE"
    )


@once_per_container
def planner_settings() -> PlannerSettings:
    return load_settings(PlannerSettings, "reminder planner")


class HealthSettings(Settings, EventsTableSettings, AlertsSettings):
    outbound_queue_url: str = Field(min_length=1, alias="OUTBOUND_QUEUE_URL")
    health_verify_queue_url: str = Field(min_length=1, alias="HEALTH_VERIFY_QUEUE_URL")
    canary_provider: str = Field(default="twilio", pattern="^(twilio|openphone)$", alias="CANARY_PROVIDER")
    # Empty = not configured: every run reports HealthCheckFailed until both numbers are set.
    canary_from: str = Field(default="", alias="CANARY_FROM_NUMBER")
    canary_to: str = Field(default="", alias="CANARY_TO_NUMBER")
    canary_timeout_seconds: int = Field(default=120, ge=1, le=900, alias="CANARY_TIMEOUT_SECONDS")
    # The callback watch (services/callback_watch.py): whose sends it watches, and when one is overdue.
    callback_watch_providers: str = Field(
        default="twilio,openphone",
        pattern=r"^\s*((twilio|openphone)\s*,?\s*)*$",
        alias="CALLBACK_WATCH_PROVIDERS",
    )
    callback_overdue_seconds: int = Field(default=120, ge=30, le=3000, alias="CALLBACK_OVERDUE_SECONDS")

    @property
    def callback_providers(self) -> list[str]:
        return [name.strip() for name in self.callback_watch_providers.split(",") if name.strip()]


@once_per_container
def health_settings() -> HealthSettings:
    return load_settings(HealthSettings, "health check")


class ReconcileSettings(
    Settings,
    EventsTableSettings,
    ProcessingQueueSettings,
    WebhookSecretsSettings,
    RawPayloadSettings,
    AlertsSettings,
    ProviderApiSettings,
):
    # Comma-separated: which providers' message lists are reconciled (twilio, openphone).
    reconcile_providers: str = Field(
        default="twilio", pattern=r"^\s*((twilio|openphone)\s*,?\s*)*$", alias="RECONCILE_PROVIDERS"
    )
    lookback_hours: float = Field(default=48, gt=0, le=24 * 31, alias="RECONCILE_LOOKBACK_HOURS")
    # OpenPhone's v1 message list is per conversation; empty = every conversation of the workspace is
    # discovered (GET /v1/conversations). A phone number id (PN...) limits it to that number's.
    openphone_phone_number_id: str = Field(default="", alias="OPENPHONE_PHONE_NUMBER_ID")
    # Override instead of discovery (needs the phone number id): ";"-separated conversations of
    # ","-separated numbers ("+14155550123;+14155550188,+14155550199").
    openphone_participants: str = Field(default="", alias="OPENPHONE_RECONCILE_PARTICIPANTS")
    requeue_grace_seconds: int = Field(default=900, ge=0, alias="RECONCILE_REQUEUE_GRACE_SECONDS")
    # Stop paging (checkpoint) when less than this remains of the invocation.
    safety_ms: int = Field(default=60_000, ge=0, alias="RECONCILE_SAFETY_MS")
    # Where a checkpointed run hands its checkpoint to the follow-up invocation (empty = nowhere: the
    # run stays checkpointed until someone resumes it).
    continuation_queue_url: str = Field(default="", alias="RECONCILE_CONTINUATION_QUEUE_URL")

    @property
    def providers(self) -> list[str]:
        return [name.strip() for name in self.reconcile_providers.split(",") if name.strip()]

    @field_validator("openphone_participants")
    @classmethod
    def _participants_need_a_number(cls, value: str, info: ValidationInfo) -> str:
        if value.strip() and not info.data.get("openphone_phone_number_id"):
            raise ValueError("OPENPHONE_RECONCILE_PARTICIPANTS needs OPENPHONE_PHONE_NUMBER_ID")
        return value

    @property
    def openphone_conversations(self) -> list[list[str]]:
        return [
            [number.strip() for number in group.split(",") if number.strip()]
            for group in self.openphone_participants.split(";")
            if group.strip()
        ]


@once_per_container
def reconcile_settings() -> ReconcileSettings:
    return load_settings(ReconcileSettings, "reconcile")


class DispatcherSettings(Settings, EventsTableSettings, WebhookSecretsSettings, RolloutSettings):
    outbound_queue_url: str = Field(min_length=1, alias="OUTBOUND_QUEUE_URL")
    reminder_provider: Literal["twilio", "openphone"] = Field(default="twilio", alias="REMINDER_PROVIDER")
    # Our number (E.164) or OpenPhone PN id; empty = not configured: due reminders stay scheduled.
    reminder_from_number: str = Field(default="", alias="REMINDER_FROM_NUMBER")


@once_per_container
def dispatcher_settings() -> DispatcherSettings:
    return load_settings(DispatcherSettings, "reminder dispatcher")
