"""The providers' message lists as reconciliation reads them: a source pages through one provider's list
over a window, from a cursor (where a checkpointed run stopped), and estimates how much of it is done."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from switchboard.models import Message
from switchboard.observability import logger
from switchboard.providers.listing import Pacing, Page


class MessageSource(Protocol):
    """A provider's message list: pages of canonical messages, each with the next page's cursor."""

    name: str
    pacing: Pacing

    def pages(self, start: datetime, end: datetime, cursor: Any) -> Iterator[Page]: ...

    def done_fraction(
        self, items: Sequence[Message], cursor: Any, start: datetime, end: datetime
    ) -> float | None:
        """How much of the window's list is behind a page that ended at `cursor` (None: unknown)."""
        ...


def share(part: timedelta, whole: timedelta) -> float:
    return 1.0 if whole <= timedelta(0) else min(1.0, max(0.0, part / whole))


@dataclass
class TwilioSource:
    credentials: Mapping[str, Any]
    base_url: str | None = None
    page_size: int = 100
    pacing: Pacing = field(default_factory=Pacing)
    name: str = "twilio"

    def pages(self, start: datetime, end: datetime, cursor: Any) -> Iterator[Page]:
        from switchboard.providers.twilio_listing import list_twilio_messages

        return list_twilio_messages(
            self.credentials,
            after=start,
            before=end,
            page_size=self.page_size,
            base_url=self.base_url,
            start_page_uri=cursor or None,
            pacing=self.pacing,
        )

    def done_fraction(
        self, items: Sequence[Message], cursor: Any, start: datetime, end: datetime
    ) -> float | None:
        """Twilio lists the newest first: the window is done back to the page's oldest message."""
        if cursor is None:
            return 1.0
        if not items:
            return None
        return share(end - min(message.occurred_at for message in items), end - start)


@dataclass
class OpenPhoneSource:
    """OpenPhone's v1 message list is per conversation (phoneNumberId + participants, both required).

    With `conversations` configured (participant lists of `phone_number_id`), one pass per entry; the
    cursor is {"conversation": index, "page_token": token}. Without, the conversations are discovered:
    every conversation updated after the window start (a message in the window updated it), of
    `phone_number_id` only when set, else of the whole workspace, then each one's messages in the window.
    The discovery cursor names one position and never the conversation list: {"conversations_token": the
    token of the conversations page being worked (None = the first), "index": the position in it,
    "page_token": the next messages page (None = from the conversation's start), "conversation_id": whose
    messages page_token continues}; a resume fetches that conversations page again. A conversation
    active again while the run pages may jump ahead of the cursor: the next run's overlapping window
    lists it.
    """

    credentials: Mapping[str, Any]
    phone_number_id: str = ""
    conversations: Sequence[Sequence[str]] = ()
    base_url: str | None = None
    max_results: int = 100  # per page, for both lists
    pacing: Pacing = field(default_factory=Pacing)
    name: str = "openphone"

    def __post_init__(self) -> None:
        if self.conversations and not self.phone_number_id:
            raise ValueError("configured OpenPhone conversations need the phone number id they belong to")

    def pages(self, start: datetime, end: datetime, cursor: Any) -> Iterator[Page]:
        if self.conversations:
            return self._configured(start, end, cursor)
        return self._discovered(start, end, cursor)

    def done_fraction(
        self, items: Sequence[Message], cursor: Any, start: datetime, end: datetime
    ) -> float | None:
        """Configured conversations: the share of them finished (their count is known, the order of a
        conversation's messages is not relied on). Discovered ones: unknown until the last page."""
        if cursor is None:
            return 1.0
        if not self.conversations:
            return None
        finished = int(cursor.get("conversation", 0))
        return finished / len(self.conversations)

    def _messages(
        self, phone_number_id: str, participants: Sequence[str], start: datetime, end: datetime, token: Any
    ) -> Iterator[Page]:
        from switchboard.providers.openphone_listing import list_openphone_messages

        return list_openphone_messages(
            self.credentials,
            phone_number_id=phone_number_id,
            participants=list(participants),
            created_after=start,
            created_before=end,
            max_results=self.max_results,
            page_token=token or None,
            base_url=self.base_url,
            pacing=self.pacing,
        )

    def _configured(self, start: datetime, end: datetime, cursor: Any) -> Iterator[Page]:
        index = int((cursor or {}).get("conversation", 0))
        token = (cursor or {}).get("page_token")
        for position in range(index, len(self.conversations)):
            pages = self._messages(self.phone_number_id, self.conversations[position], start, end, token)
            token = None
            for items, next_token in pages:
                if next_token:
                    yield items, {"conversation": position, "page_token": next_token}
                elif position + 1 < len(self.conversations):
                    yield items, {"conversation": position + 1, "page_token": None}
                else:
                    yield items, None

    def _discovered(self, start: datetime, end: datetime, cursor: Any) -> Iterator[Page]:
        from switchboard.providers.openphone_listing import list_openphone_conversations

        state = cursor or {}
        token: str | None = state.get("conversations_token") or None
        index = int(state.get("index", 0))
        message_token = state.get("page_token") or None
        continued = state.get("conversation_id")
        # Assumed (v1 docs do not say): a new message moves the conversation's updatedAt. No updatedBefore:
        # a conversation active again since the window end still holds older messages of the window.
        listed = list_openphone_conversations(
            self.credentials,
            updated_after=start,
            phone_numbers=[self.phone_number_id] if self.phone_number_id else None,
            max_results=self.max_results,
            page_token=token,
            base_url=self.base_url,
            pacing=self.pacing,
        )
        for found, next_conversations in listed:
            if continued is not None:
                index, message_token = self._realign(found, index, str(continued), message_token)
                continued = None
            for position in range(index, len(found)):
                conversation = found[position]
                if not conversation.participants:
                    continue  # nobody to list messages with (no texts in it)
                pages = self._messages(
                    conversation.phone_number_id, conversation.participants, start, end, message_token
                )
                message_token = None
                for items, next_token in pages:
                    if next_token:
                        after: dict[str, Any] | None = {
                            "conversations_token": token,
                            "index": position,
                            "page_token": next_token,
                            "conversation_id": conversation.id,
                        }
                    elif position + 1 < len(found):
                        after = {"conversations_token": token, "index": position + 1, "page_token": None}
                    elif next_conversations:
                        after = {"conversations_token": next_conversations, "index": 0, "page_token": None}
                    else:
                        after = None
                    yield items, after
            index, message_token, token = 0, None, next_conversations

    @staticmethod
    def _realign(
        found: Sequence[Any], index: int, conversation_id: str, message_token: str | None
    ) -> tuple[int, str | None]:
        """Where a resumed conversation sits in its page fetched again: activity meanwhile may have moved
        it; one no longer on the page is skipped for the one now at `index`, listed from its start (a
        repeated page is harmless: the store is idempotent)."""
        for position, conversation in enumerate(found):
            if conversation.id == conversation_id:
                return position, message_token
        logger.warning("resumed OpenPhone conversation moved off its page", conversation_id=conversation_id)
        return index, None
