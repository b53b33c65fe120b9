"""Reminder texts: a template per purpose behind a small interface (a later issue adds LLM-written text,
with these templates as its fallback)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

REMINDER = "reminder"


@dataclass(frozen=True)
class TextRequest:
    purpose: str
    title: str
    start: datetime | None
    all_day: date | None
    location: str | None
    zone: str  # the recipient's zone: the start is shown there
    twelve_hour: bool  # the recipient's clock (NANP numbers read 12-hour times)


class TextWriter(Protocol):
    def write(self, request: TextRequest) -> str: ...


TEMPLATES = {
    REMINDER: "Reminder: {title} {when}{where}. Reply STOP to opt out.",
}


def when_text(request: TextRequest) -> str:
    """The start as the recipient reads it; an LLM-written text must keep it verbatim (llm_text.py)."""
    if request.start is None:
        day = request.all_day or date.today()
        return f"on {day:%a %-d %b}"
    local = request.start.astimezone(ZoneInfo(request.zone))
    clock = f"{local:%-I:%M %p}" if request.twelve_hour else f"{local:%H:%M}"
    return f"on {local:%a %-d %b} at {clock} {local.tzname()}"


class TemplateWriter:
    """The default writer: fixed templates, the start in the recipient's zone and clock."""

    def __init__(self, templates: dict[str, str] | None = None) -> None:
        self.templates = templates or TEMPLATES

    def write(self, request: TextRequest) -> str:
        template = self.templates.get(request.purpose, self.templates[REMINDER])
        where = f" at {request.location}" if request.location else ""
        return template.format(
            title=request.title or "your appointment", when=when_text(request), where=where
        )
