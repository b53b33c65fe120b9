"""The auto-send decision: a positive reply's draft is approved by policy only when auto-send is on for
the reply's provider, the contact has not opted out or been suppressed, and nobody has written to the
contact since the reply. Returns why not (recorded on the draft as `auto_send_hold`), or None."""

from __future__ import annotations

from collections.abc import Callable

from switchboard.models.drafts import Conversation


def auto_send_hold(
    *,
    enabled: bool,
    opted_out: bool,
    suppressed: Callable[[], bool],
    conversation: Conversation | None,
    reply_at: str,
) -> str | None:
    if not enabled:
        return "disabled"
    if opted_out:
        return "opted_out"
    if suppressed():  # a read: asked only once auto-send is on
        return "suppressed"
    latest = conversation.last_message_at if conversation else None
    if latest and latest > reply_at:
        # The roll-up moved past this reply: someone wrote since (ours), or a newer reply awaits its own.
        newer_inbound = conversation is not None and conversation.last_inbound_at == latest
        return "newer_reply" if newer_inbound else "replied_since"
    return None
