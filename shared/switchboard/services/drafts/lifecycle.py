"""An operator's moves of a draft: approve (then its reply is enqueued through enqueue_draft) or reject."""

from __future__ import annotations

from typing import Any, Protocol

from switchboard.errors import DraftNotFound
from switchboard.services.drafts.send import OutboundSink, enqueue_draft


class DraftStore(Protocol):
    def approve(self, draft_id: str, now: float, *, by: str) -> dict[str, Any]: ...
    def reject(self, draft_id: str, now: float, *, reason: str) -> dict[str, Any]: ...


MessageReader = Any  # anything with get(pk, sk) -> dict | None (dal.events_table.EventsTable)


def approve_draft(
    drafts: DraftStore, messages: MessageReader, queue: OutboundSink, draft_id: str, now: float, *, by: str
) -> dict[str, Any]:
    """Approve, then enqueue: a failed enqueue leaves it approved, and approving it again re-enqueues
    under the same send key (the sender sends it at most once). ReplyNotPossible: the message it answers
    cannot be replied to in its thread (the draft stays approved; the operator answers by hand)."""
    draft = drafts.approve(draft_id, now, by=by)
    message = messages.get(draft_id, "MESSAGE")
    if message is None:
        raise DraftNotFound(f"{draft_id}: the message it answers is gone")
    enqueue_draft(draft, message, queue)
    return draft


def reject_draft(drafts: DraftStore, draft_id: str, now: float, *, reason: str) -> dict[str, Any]:
    return drafts.reject(draft_id, now, reason=reason)
