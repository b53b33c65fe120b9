"""What follows a processed job's commit: the auto-approved draft's send request, and the hot-lead notice.

Both happen after the commit, so a job that fails before it enqueues nothing; a redelivered job finds
its record PROCESSED and runs neither again. Neither may fail the job: the commit already holds the
draft. A failed enqueue leaves the draft approved (counted, logged; `switchboard drafts approve ID`
enqueues it again, with the same send key); a failed notice is counted and logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchboard.errors import ReplyNotPossible
from switchboard.models.classification import Intent
from switchboard.models.drafts import DraftEnds, DraftState
from switchboard.models.plan import DraftReply, Plan
from switchboard.observability import logger, mask_text, metrics
from switchboard.services.drafts.send import OutboundSink, enqueue_draft

HOT_INTENTS = frozenset({Intent.INTERESTED.value, Intent.MEETING_REQUESTED.value})
Notify = Callable[[str], bool]  # True: delivered; False: no webhook configured


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit="Count", value=1)


def hot_lead_text(record: dict[str, Any], intent: str, draft: DraftReply | None) -> str:
    contact = mask_text(str(record.get("sender", "")))
    line = f"Hot lead: {intent} from {contact} via {record.get('provider', '?')}"
    if draft is None:
        return line
    return f"{line}. Draft {record['pk']} ({draft.state}): switchboard drafts list --state {draft.state}"


@dataclass
class DraftDispatch:
    queue: OutboundSink | None = None
    notify: Notify | None = None  # None: no Slack webhook configured
    drafts: DraftEnds | None = None  # ends a draft that can never be sent; None: counted and logged only
    clock: Callable[[], float] = time.time

    def after_commit(self, record: dict[str, Any], plan: Plan) -> None:
        draft = plan.draft
        if draft is not None and draft.auto_send:
            _count("DraftsAutoApproved")
            self._enqueue(record, draft)
        intent = plan.annotations.get("intent")
        if self.notify is not None and intent in HOT_INTENTS:
            self._notify(hot_lead_text(record, str(intent), draft))

    def _enqueue(self, record: dict[str, Any], draft: DraftReply) -> None:
        if self.queue is None:
            _count("DraftEnqueueFailed")
            logger.error("approved draft not enqueued: no OUTBOUND_QUEUE_URL", draft_id=record["pk"])
            return
        try:
            # the draft as committed (no read back)
            enqueue_draft(draft.stored_fields(record["pk"]), record, self.queue)
        except ReplyNotPossible as refused:  # permanent: the stored message cannot be answered in its thread
            _count("AutoReplyFailures")
            if self.drafts is not None:
                self.drafts.finish_send(
                    record["pk"], DraftState.FAILED, self.clock(), error=str(refused)[:500]
                )
            logger.warning("approved draft cannot be sent", draft_id=record["pk"], error=str(refused)[:300])
            return
        except Exception as failure:  # the commit holds the approved draft: an operator re-enqueues it
            _count("DraftEnqueueFailed")
            logger.error("approved draft not enqueued", draft_id=record["pk"], error=str(failure)[:300])
            return
        _count("DraftsEnqueued")

    def _notify(self, text: str) -> None:
        assert self.notify is not None
        try:
            delivered = self.notify(text)
        except Exception as failure:  # best effort: a notice never fails or blocks the job
            _count("HotLeadNoticeFailed")
            logger.warning("hot-lead notice not delivered", error=str(failure)[:300])
            return
        if delivered:
            _count("HotLeadNotices")
