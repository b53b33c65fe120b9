"""Settings: every function's model reads the environment once, names what is missing, and shares each
common field through one mixin; config (ingest) and function_settings (the rest) do not import each other."""

from __future__ import annotations

import subprocess
import sys

import pytest

from switchboard.config import IngestSettings
from switchboard.function_settings import HealthSettings, ReconcileSettings, SenderSettings, WorkerSettings
from switchboard.settings_base import ConfigurationError, EventsTableSettings, load_settings

MODELS = [IngestSettings, WorkerSettings, SenderSettings, HealthSettings, ReconcileSettings]


def test_a_missing_variable_is_named_in_the_error(monkeypatch):
    # Given an environment without the table name
    monkeypatch.delenv("TABLE_NAME", raising=False)

    # When the worker's settings load, Then the error names the variable, not a pydantic dump
    with pytest.raises(ConfigurationError, match="worker is misconfigured.*TABLE_NAME"):
        load_settings(WorkerSettings, "worker")


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_each_shared_field_is_declared_once_in_its_mixin(model):
    # Then a function's model declares TABLE_NAME only by inheriting it
    assert issubclass(model, EventsTableSettings)
    own = model.__dict__.get("__annotations__", {})
    assert "table_name" not in own


def test_config_and_function_settings_do_not_import_each_other():
    # When each module is imported alone in a fresh interpreter
    probe = "import sys, importlib; importlib.import_module(sys.argv[1]); print(sys.argv[2] in sys.modules)"
    for module, other in (
        ("switchboard.config", "switchboard.function_settings"),
        ("switchboard.function_settings", "switchboard.config"),
    ):
        result = subprocess.run(  # noqa: S603 - this interpreter, our own modules
            [sys.executable, "-c", probe, module, other], capture_output=True, text=True, check=True
        )
        # Then the other one was not imported
        assert result.stdout.strip() == "False", f"{module} imports {other}"


def worker_env(monkeypatch) -> None:
    """The worker's required variables, so a test sets only the one it is about."""
    for name, value in {
        "TABLE_NAME": "events",
        "PROCESSING_QUEUE_URL": "https://sqs/q",
        "PROCESSING_DLQ_URL": "https://sqs/dlq",
        "WEBHOOK_SECRETS_NAME": "switchboard/webhooks",
    }.items():
        monkeypatch.setenv(name, value)


def test_an_llm_provider_without_a_model_names_the_variable(monkeypatch):
    # Given the LLM turned on without saying which model
    worker_env(monkeypatch)
    monkeypatch.setenv("LLM_PROVIDER", "bedrock")
    monkeypatch.delenv("LLM_MODEL", raising=False)
    # When the worker's settings load / Then the error names LLM_MODEL
    with pytest.raises(ConfigurationError, match="LLM_MODEL"):
        load_settings(WorkerSettings, "worker")


def test_llm_prices_from_the_environment_extend_the_dated_defaults(monkeypatch):
    # Given a price for a self-hosted model in LLM_PRICES
    worker_env(monkeypatch)
    monkeypatch.setenv("LLM_PRICES", '{"llama3": {"input": 0, "output": 0, "verified_at": "2026-12-03"}}')
    # When loaded / Then it sits beside the defaults, each with its verified_at date
    prices = load_settings(WorkerSettings, "worker").llm_prices
    assert prices["llama3"].verified_at == "2026-12-03"
    assert prices["amazon.nova-micro-v1:0"].input == 0.035
