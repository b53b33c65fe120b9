"""The rollout flag's SSM parameter: read through Powertools parameters (cached `max_age` seconds, so
every reminder costs no SSM call) and written by the operator CLI."""

from __future__ import annotations

from typing import Any

from switchboard.errors import StoreUnavailable
from switchboard.models.rollout import RolloutFlag

DEFAULT_MAX_AGE_SECONDS = 30  # how long a pause may take to reach a warm container


class RolloutFlagStore:
    def __init__(
        self, parameter_name: str, *, max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS, ssm: Any = None
    ) -> None:
        self.parameter_name = parameter_name
        self.max_age_seconds = max_age_seconds
        self._ssm = ssm
        self._provider: Any = None

    @property
    def ssm(self) -> Any:
        from switchboard.dal.aws import client

        return self._ssm or client("ssm")

    def read(self, *, fresh: bool = False) -> RolloutFlag:
        """The flag; with no parameter configured, on (reminders as before). Unreadable: StoreUnavailable,
        so a worker retries rather than scheduling against a flag it cannot see."""
        if not self.parameter_name:
            return RolloutFlag()
        from aws_lambda_powertools.utilities.parameters import SSMProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        if self._provider is None:
            self._provider = SSMProvider(boto3_client=self.ssm)
        try:
            document = self._provider.get(
                self.parameter_name, max_age=self.max_age_seconds, transform="json", force_fetch=fresh
            )
        except GetParameterError as exc:
            raise StoreUnavailable(f"cannot read the rollout flag {self.parameter_name}") from exc
        return RolloutFlag.model_validate(document or {})

    def write(self, flag: RolloutFlag) -> None:
        from switchboard.dal.failures import translated

        with translated(StoreUnavailable, "SSM put_parameter"):
            self.ssm.put_parameter(
                Name=self.parameter_name,
                Value=flag.model_dump_json(),
                Type="String",
                Overwrite=True,
            )
