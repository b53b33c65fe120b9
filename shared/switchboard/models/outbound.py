"""An outbound send request: what the outbound queue carries and the sender sends at most once."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Purpose = Literal["operator", "canary", "reminder", "auto_reply"]


class SendRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    send_key: str = Field(min_length=1, max_length=200, description="the caller's idempotency key")
    provider: Literal["twilio", "openphone"]
    sender: str = Field(min_length=1, description="our number (E.164) or OpenPhone PN id")
    recipient: str = Field(pattern=r"^\+[1-9]\d{1,14}$")
    body: str = Field(min_length=1, max_length=1600)
    channel: Literal["sms", "whatsapp"] = "sms"
    purpose: Purpose = "operator"
