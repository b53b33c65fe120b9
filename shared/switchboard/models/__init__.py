"""Canonical models: what every provider's webhook is normalized into, and the job sent to the worker."""

from switchboard.models.events import (
    Channel,
    Direction,
    Event,
    Media,
    Message,
    StatusUpdate,
)
from switchboard.models.jobs import Job

__all__ = ["Channel", "Direction", "Event", "Job", "Media", "Message", "StatusUpdate"]
