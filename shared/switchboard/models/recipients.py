"""A reminder recipient: who gets texted, in which zone, and under which limits (issue 11's defaults)."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.models.events import is_iana_zone

ZoneSource = Literal["operator", "booking", "number", "default"]


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True)

    phone: str = Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164")
    time_zone: str | None = Field(default=None, description="IANA; None: judged by the booking or the number")
    zone_source: ZoneSource = "default"
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    daily_limit: int = Field(default=5, ge=0, le=1000)
    lead_minutes: int = Field(default=15, ge=0, le=7 * 24 * 60)
    enabled: bool = True

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not is_iana_zone(value):
            raise ValueError(f"{value!r} is not an IANA time zone")
        return value
