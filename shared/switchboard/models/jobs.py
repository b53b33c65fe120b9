"""The job message ingest puts on the processing queue: a pointer to the stored record, never the data."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Job(BaseModel):
    model_config = ConfigDict(frozen=True)

    job: Literal["process_event"] = "process_event"
    pk: str
    sk: str
    provider: str
    kind: Literal["message", "status", "calendar"]
    provider_message_id: str
    source: Literal["webhook", "reconciliation", "redrive"] = "webhook"
