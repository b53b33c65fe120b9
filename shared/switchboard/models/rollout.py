"""The reminders' rollout flag (issue 13 item 5): who may get reminders, and the kill switch.

Stored as one JSON document in an SSM parameter. Recipients are named by their AddressKeys id, never
their number, so the parameter holds no personal data. Each mode widens the one before it:
off < internal < beta < percentage < on; `paused` overrides every mode (the rollback plan).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class RolloutMode(StrEnum):
    OFF = "off"
    INTERNAL = "internal"
    BETA = "beta"
    PERCENTAGE = "percentage"
    ON = "on"


class RolloutFlag(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    mode: RolloutMode = RolloutMode.ON  # an unset parameter keeps reminders as they were before the flag
    percent: int = Field(default=0, ge=0, le=100, description="percentage mode: the share of recipients")
    internal: tuple[str, ...] = ()  # recipient ids (AddressKeys) of the internal testers
    beta: tuple[str, ...] = ()  # recipient ids of the beta recipients
    paused: bool = False  # the kill switch: nothing scheduled, nothing sent
