"""Webhook secrets: one Secrets Manager JSON document, {"<provider>": {...}}, cached by Powertools."""

from __future__ import annotations

from typing import Any

from switchboard.errors import SecretsUnavailable


class WebhookSecrets:
    def __init__(self, secret_name: str, max_age_seconds: int = 300, secretsmanager: Any = None) -> None:
        self.secret_name = secret_name
        self.max_age_seconds = max_age_seconds
        self._secretsmanager = secretsmanager
        self._secrets_provider: Any = None

    @property
    def secrets_provider(self) -> Any:
        if self._secrets_provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            from switchboard.dal.aws import client

            self._secrets_provider = SecretsProvider(
                boto3_client=self._secretsmanager or client("secretsmanager")
            )
        return self._secrets_provider

    def for_provider(self, name: str) -> dict[str, Any]:
        """The provider's secret fields, or {} when the route is not configured (it will fail closed)."""
        from aws_lambda_powertools.utilities.parameters.exceptions import (
            GetParameterError,
            TransformParameterError,
        )

        try:
            document = self.secrets_provider.get(
                self.secret_name, max_age=self.max_age_seconds, transform="json"
            )
        except TransformParameterError:
            return {}  # not a JSON document: nothing is configured
        except GetParameterError as exc:
            raise SecretsUnavailable(f"cannot read secret {self.secret_name}") from exc
        section = document.get(name) if isinstance(document, dict) else None
        return section if isinstance(section, dict) else {}
