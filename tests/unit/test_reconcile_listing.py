"""Provider list clients without a network: backoff and Retry-After arithmetic, a fake transport and clock;
OpenPhone conversation discovery: the conversations list client, the source's cursor over fake lists, and
the settings that choose discovery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pydantic import ValidationError

from switchboard.function_settings import ReconcileSettings
from switchboard.models import Direction
from switchboard.providers import openphone_listing as listing_module
from switchboard.providers.listing import (
    ListRejected,
    ListUnavailable,
    Pacing,
    RetryPolicy,
    parse_retry_after,
)
from switchboard.providers.openphone_listing import (
    OpenPhoneConversation,
    list_openphone_conversations,
    list_openphone_messages,
    openphone_message,
)
from switchboard.providers.twilio_listing import twilio_message
from switchboard.services.ratelimit import TokenBucket
from switchboard.services.reconcile import OpenPhoneSource

NOW = 1_795_593_600.0
AFTER = datetime(2026, 11, 23, tzinfo=UTC)
BEFORE = AFTER + timedelta(hours=48)


def test_backoff_doubles_from_the_base_and_stops_at_the_cap():
    policy = RetryPolicy(base_seconds=0.5, cap_seconds=4.0)
    assert [policy.backoff(attempt) for attempt in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_retry_after_seconds_or_http_date_wins_over_backoff_and_is_clamped():
    policy = RetryPolicy(base_seconds=0.5, max_retry_after_seconds=60)
    assert policy.delay(1, "3", NOW) == 3.0
    assert policy.delay(3, None, NOW) == 2.0  # no header: the backoff
    assert policy.delay(3, "soon", NOW) == 2.0  # unreadable: the backoff
    date = format_datetime(datetime.fromtimestamp(NOW + 7, tz=UTC), usegmt=True)
    assert policy.delay(1, date, NOW) == pytest.approx(7.0)
    assert policy.delay(1, "3600", NOW) == 60.0
    assert parse_retry_after(format_datetime(datetime.fromtimestamp(NOW - 5, tz=UTC)), NOW) == -5
    assert policy.delay(1, format_datetime(datetime.fromtimestamp(NOW - 5, tz=UTC)), NOW) == 0.0


class FakeResponse:
    def __init__(self, status: int, payload: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status_code, self._payload, self.headers = status, payload, headers or {}
        self.text = str(payload)

    def json(self) -> Any:
        return self._payload


class FakeSession:
    def __init__(self, *responses: FakeResponse) -> None:
        self.responses = list(responses)
        self.calls: list[dict[str, Any]] = []

    def get(self, url: str, **kwargs: Any) -> FakeResponse:
        self.calls.append({"url": url, **kwargs})
        return self.responses.pop(0)


def op_message(index: int) -> dict[str, Any]:
    return {
        "id": f"AC{index:04d}",
        "to": ["+14155559876"],
        "from": "+14155550123",
        "text": f"hi {index}",
        "phoneNumberId": "PNtoDbDhuz",
        "conversationId": "CN1",
        "direction": "incoming",
        "userId": None,
        "status": "received",
        "createdAt": "2026-11-24T10:00:00.000Z",
    }


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def listing(session: FakeSession, pacing: Pacing, **kwargs: Any) -> list[Any]:
    return list(
        list_openphone_messages(
            {"api_key": "key"},
            phone_number_id="PNtoDbDhuz",
            participants=["+14155550123"],
            created_after=AFTER,
            created_before=BEFORE,
            max_results=2,
            base_url="http://sandbox.invalid",
            pacing=pacing,
            session=session,
            **kwargs,
        )
    )


def test_openphone_429_waits_retry_after_5xx_backs_off_and_pages_follow_the_token():
    fake = FakeTime()
    session = FakeSession(
        FakeResponse(429, {"message": "Too many requests"}, {"Retry-After": "2"}),
        FakeResponse(503, {"message": "down"}),
        FakeResponse(200, {"data": [op_message(1), op_message(2)], "nextPageToken": "t2"}),
        FakeResponse(429, {"message": "Too many requests"}),  # no Retry-After: backoff
        FakeResponse(200, {"data": [op_message(3)], "nextPageToken": None}),
    )
    pacing = Pacing(policy=RetryPolicy(base_seconds=0.5), sleep=fake.sleep, clock=fake.clock)
    pages = listing(session, pacing)

    assert [[m.provider_message_id for m in items] for items, _ in pages] == [
        ["AC0001", "AC0002"],
        ["AC0003"],
    ]
    assert [cursor for _, cursor in pages] == ["t2", None]
    assert fake.sleeps == [2.0, 1.0, 0.5]  # Retry-After, then backoff for attempt 2, then attempt 1
    assert (pacing.retries, pacing.throttled) == (3, 2)
    assert session.calls[0]["headers"] == {"Authorization": "key"}  # no "Bearer"
    params = dict(session.calls[0]["params"])
    assert params["phoneNumberId"] == "PNtoDbDhuz" and params["maxResults"] == "2"
    assert params["createdAfter"] == "2026-11-23T00:00:00.000Z"
    assert ("pageToken", "t2") in session.calls[-1]["params"]


def test_openphone_gives_up_after_the_bounded_attempts_and_never_retries_a_4xx():
    fake = FakeTime()
    pacing = Pacing(policy=RetryPolicy(max_attempts=3, base_seconds=1), sleep=fake.sleep, clock=fake.clock)
    with pytest.raises(ListUnavailable):
        listing(FakeSession(*[FakeResponse(500, {})] * 3), pacing)
    assert fake.sleeps == [1, 2]
    with pytest.raises(ListRejected):
        listing(FakeSession(FakeResponse(401, {"message": "Unauthorized"})), pacing)


def test_every_request_takes_a_token_from_the_injected_bucket():
    fake = FakeTime()
    bucket = TokenBucket(10, capacity=1, clock=fake.clock, sleep=fake.sleep)
    session = FakeSession(
        FakeResponse(200, {"data": [op_message(1)], "nextPageToken": "a"}),
        FakeResponse(200, {"data": [op_message(2)], "nextPageToken": "b"}),
        FakeResponse(200, {"data": [op_message(3)], "nextPageToken": None}),
    )
    listing(session, Pacing(bucket=bucket, sleep=fake.sleep, clock=fake.clock))
    # 10 a second, burst 1: the first is free, the next two wait 0.1 s each
    assert fake.sleeps == pytest.approx([0.1, 0.1])


def test_a_listed_item_that_cannot_be_mapped_is_skipped_and_counted():
    bad = {**op_message(2), "from": "not a number"}
    session = FakeSession(FakeResponse(200, {"data": [op_message(1), bad], "nextPageToken": None}))
    pacing = Pacing()
    [(items, _)] = listing(session, pacing)
    assert [m.provider_message_id for m in items] == ["AC0001"] and pacing.malformed == 1


def test_listed_messages_map_onto_the_canonical_model():
    message = openphone_message({**op_message(1), "direction": "outgoing"})
    assert message.direction == Direction.OUTBOUND and message.recipient == "+14155559876"
    assert message.body == "hi 1" and message.thread_id == "CN1" and message.provider == "openphone"

    twilio = twilio_message(
        {
            "sid": "SM1",
            "from": "whatsapp:+14155550123",
            "to": "whatsapp:+14155559876",
            "body": "hola",
            "direction": "inbound",
            "status": "received",
            "num_media": "0",
            "date_sent": "Tue, 24 Nov 2026 10:00:00 +0000",
            "account_sid": "AC1",
        }
    )
    assert twilio.channel == "whatsapp" and twilio.sender == "+14155550123"
    assert twilio.direction == Direction.INBOUND
    assert twilio.occurred_at == datetime(2026, 11, 24, 10, tzinfo=UTC)
    outbound = twilio_message(
        {
            "sid": "SM2",
            "from": "+14155559876",
            "to": "+14155550123",
            "direction": "outbound-api",
            "num_media": "1",
            "date_created": "Tue, 24 Nov 2026 10:00:00 +0000",
        }
    )
    assert outbound.direction == Direction.OUTBOUND and outbound.channel == "mms"


# --- OpenPhone conversation discovery ------------------------------------------------------------------


def conversation(n: int, participants: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": f"CN{n}",
        "phoneNumberId": "PNtoDbDhuz",
        "participants": participants if participants is not None else [f"+1415555010{n}"],
        "lastActivityAt": "2026-11-24T10:00:00.000Z",
    }


def conversations(session: FakeSession, pacing: Pacing, **kwargs: Any) -> list[Any]:
    return list(
        list_openphone_conversations(
            {"api_key": "key"},
            updated_after=AFTER,
            max_results=2,
            base_url="http://sandbox.invalid/",
            pacing=pacing,
            session=session,
            **kwargs,
        )
    )


def no_sleep_pacing() -> Pacing:
    sleeps: list[float] = []
    return Pacing(policy=RetryPolicy(base_seconds=0.5), sleep=sleeps.append, clock=lambda: 0.0)


# --- the list client -----------------------------------------------------------------------------------


def test_pages_follow_the_token_with_the_filters_on_every_request():
    session = FakeSession(
        FakeResponse(200, {"data": [conversation(1), conversation(2)], "nextPageToken": "t2"}),
        FakeResponse(200, {"data": [conversation(3)], "nextPageToken": None}),
    )
    pages = conversations(session, no_sleep_pacing(), updated_before=BEFORE, phone_numbers=["PNtoDbDhuz"])

    assert [[item.id for item in items] for items, _ in pages] == [["CN1", "CN2"], ["CN3"]]
    assert [token for _, token in pages] == ["t2", None]
    assert pages[0][0][0] == OpenPhoneConversation(
        "CN1", "PNtoDbDhuz", ("+14155550101",), "2026-11-24T10:00:00.000Z"
    )
    first, second = session.calls
    assert first["url"] == "http://sandbox.invalid/v1/conversations"
    assert first["headers"] == {"Authorization": "key"}
    assert first["params"] == [
        ("phoneNumbers", "PNtoDbDhuz"),
        ("maxResults", "2"),
        ("updatedAfter", "2026-11-23T00:00:00.000Z"),
        ("updatedBefore", "2026-11-25T00:00:00.000Z"),
    ]
    assert second["params"][-1] == ("pageToken", "t2")


def test_without_filters_the_whole_workspace_is_asked_for():
    session = FakeSession(FakeResponse(200, {"data": [], "nextPageToken": None}))
    assert conversations(session, no_sleep_pacing()) == [([], None)]
    names = [name for name, _ in session.calls[0]["params"]]
    assert names == ["maxResults", "updatedAfter"]


def test_429_and_5xx_are_retried_like_the_message_list():
    session = FakeSession(
        FakeResponse(429, {"message": "Too many requests"}, {"Retry-After": "2"}),
        FakeResponse(502, {"message": "bad gateway"}),
        FakeResponse(200, {"data": [conversation(1)], "nextPageToken": None}),
    )
    sleeps: list[float] = []
    pacing = Pacing(policy=RetryPolicy(base_seconds=0.5), sleep=sleeps.append, clock=lambda: 0.0)
    pages = conversations(session, pacing, page_token="resume-here")

    assert [[item.id for item in items] for items, _ in pages] == [["CN1"]]
    assert sleeps == [2.0, 1.0] and (pacing.retries, pacing.throttled) == (2, 1)
    assert all(call["params"][-1] == ("pageToken", "resume-here") for call in session.calls)


def test_a_4xx_is_rejected_at_once():
    session = FakeSession(FakeResponse(400, {"message": "maxResults is required"}))
    with pytest.raises(ListRejected):
        conversations(session, no_sleep_pacing())
    assert len(session.calls) == 1


def test_a_malformed_conversation_is_skipped_and_counted():
    bad = [{"id": "CN9", "participants": ["+14155550109"]}, conversation(8, participants=["+1"] * 11)]
    session = FakeSession(FakeResponse(200, {"data": [*bad, conversation(1)], "nextPageToken": None}))
    pacing = no_sleep_pacing()
    pages = conversations(session, pacing)
    assert [[item.id for item in items] for items, _ in pages] == [["CN1"]]
    assert pacing.malformed == 2


# --- the source's cursor -------------------------------------------------------------------------------


class FakeOpenPhone:
    """Conversation pages (lists of OpenPhoneConversation by token) and, per conversation id, message
    pages (lists of labels by token); records every request."""

    def __init__(self, pages: dict[str | None, tuple[list[OpenPhoneConversation], str | None]]) -> None:
        self.pages = pages
        self.requests: list[tuple[str, Any]] = []

    def conversations(self, credentials: Any, *, page_token: str | None, **kwargs: Any) -> Iterator[Any]:
        token = page_token
        while True:
            self.requests.append(("conversations", token))
            found, token = self.pages[token]
            yield found, token
            if not token:
                return

    def messages(
        self, credentials: Any, *, participants: list[str], page_token: str | None, **kwargs: Any
    ) -> Iterator[Any]:
        token = page_token
        while True:
            self.requests.append((participants[0], token))
            following = {None: "m2", "m2": None}[token]
            yield [f"{participants[0]}:{token}"], following
            if not following:
                return
            token = following


def customer(n: int) -> OpenPhoneConversation:
    return OpenPhoneConversation(f"CN{n}", "PNtoDbDhuz", (f"+1415555010{n}",))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeOpenPhone:
    api = FakeOpenPhone(
        {
            None: ([customer(1), customer(2)], "c2"),
            "c2": ([customer(3), OpenPhoneConversation("CN0", "PN", ())], None),
        }
    )
    monkeypatch.setattr(listing_module, "list_openphone_conversations", api.conversations)
    monkeypatch.setattr(listing_module, "list_openphone_messages", api.messages)
    return api


def test_discovery_cursors_name_a_position_never_the_conversation_list(fake: FakeOpenPhone):
    pages = list(OpenPhoneSource({"api_key": "key"}).pages(AFTER, BEFORE, None))

    assert [cursor for _, cursor in pages] == [
        {"conversations_token": None, "index": 0, "page_token": "m2", "conversation_id": "CN1"},
        {"conversations_token": None, "index": 1, "page_token": None},
        {"conversations_token": None, "index": 1, "page_token": "m2", "conversation_id": "CN2"},
        {"conversations_token": "c2", "index": 0, "page_token": None},
        {"conversations_token": "c2", "index": 0, "page_token": "m2", "conversation_id": "CN3"},
        {"conversations_token": "c2", "index": 1, "page_token": None},  # CN0: no participants, skipped
    ]
    assert len(pages) == 6


def test_a_resume_refetches_its_conversations_page_and_continues_the_conversation(fake: FakeOpenPhone):
    cursor = {"conversations_token": None, "index": 1, "page_token": "m2", "conversation_id": "CN2"}
    pages = list(OpenPhoneSource({"api_key": "key"}).pages(AFTER, BEFORE, cursor))

    assert [items for items, _ in pages] == [["+14155550102:m2"], ["+14155550103:None"], ["+14155550103:m2"]]
    assert fake.requests[0] == ("conversations", None)


def test_a_resumed_conversation_that_moved_on_its_page_is_found_by_its_id(fake: FakeOpenPhone):
    # CN2 was at index 0 when the checkpoint was taken; it is at index 1 now
    cursor = {"conversations_token": None, "index": 0, "page_token": "m2", "conversation_id": "CN2"}
    pages = list(OpenPhoneSource({"api_key": "key"}).pages(AFTER, BEFORE, cursor))
    assert pages[0][0] == ["+14155550102:m2"]


def test_a_resumed_conversation_gone_from_its_page_restarts_the_one_at_its_index(fake: FakeOpenPhone):
    cursor = {"conversations_token": None, "index": 1, "page_token": "m2", "conversation_id": "CN7"}
    pages = list(OpenPhoneSource({"api_key": "key"}).pages(AFTER, BEFORE, cursor))
    assert pages[0][0] == ["+14155550102:None"]  # from its start: its token belonged to another


def test_configured_conversations_need_their_phone_number_id():
    with pytest.raises(ValueError, match="phone number id"):
        OpenPhoneSource({"api_key": "key"}, conversations=[["+14155550123"]])


# --- settings ------------------------------------------------------------------------------------------

REQUIRED = {
    "TABLE_NAME": "t",
    "PROCESSING_QUEUE_URL": "q",
    "WEBHOOK_SECRETS_NAME": "s",
    "ALERTS_TOPIC_ARN": "a",
    "RAW_PAYLOAD_BUCKET": "b",
}


def test_no_participants_configured_means_discovery():
    settings = ReconcileSettings.model_validate(REQUIRED)
    assert settings.openphone_conversations == [] and settings.openphone_phone_number_id == ""


def test_participants_override_needs_the_phone_number_id():
    with pytest.raises(ValidationError) as refused:
        ReconcileSettings.model_validate({**REQUIRED, "OPENPHONE_RECONCILE_PARTICIPANTS": "+14155550123"})
    assert refused.value.errors()[0]["loc"] == ("OPENPHONE_RECONCILE_PARTICIPANTS",)

    settings = ReconcileSettings.model_validate(
        {
            **REQUIRED,
            "OPENPHONE_PHONE_NUMBER_ID": "PNtoDbDhuz",
            "OPENPHONE_RECONCILE_PARTICIPANTS": "+14155550123;+14155550188,+14155550199",
        }
    )
    assert settings.openphone_conversations == [["+14155550123"], ["+14155550188", "+14155550199"]]
