"""The sandbox's GET /v1/conversations without a socket: conversations derived from its stored OpenPhone
messages (one per business number id + participant set), filtered, newest activity first, paged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from switchboard_ops.sandbox import openphone_api
from switchboard_ops.sandbox.config import SANDBOX_NUMBER_A
from switchboard_ops.sandbox.core import Context
from switchboard_ops.sandbox.server import SandboxApp
from switchboard_ops.sandbox.wire import Request

BUSINESS, PN_BUSINESS = "+14155559876", "PNtoDbDhuz"
ALICE, BOB, CAROL = "+14155550123", "+14155550188", "+14155550177"


def at(minute: int) -> str:
    return datetime(2026, 5, 1, 10, minute, tzinfo=UTC).isoformat()


def receive(ctx: Context, sender: str, minute: int, to: str = BUSINESS) -> str:
    payload = {"from": sender, "to": to, "body": f"at {minute}", "date": at(minute), "wait": False}
    return str(ctx.receive("openphone", payload, openphone_api.inbound)["id"])


def get(app: SandboxApp, ctx: Context, query: dict[str, Any] | list[tuple[str, str]]) -> tuple[int, Any]:
    headers = {"Authorization": ctx.openphone_api_key}
    response = app.handle(Request.build("GET", f"/v1/conversations?{urlencode(query)}", headers))
    return response.status, json.loads(response.body)


def test_one_conversation_per_participant_set_newest_activity_first(app: SandboxApp, ctx: Context) -> None:
    # Given Alice wrote at 1 and 5, Bob at 3, Carol at 4
    receive(ctx, ALICE, 1)
    receive(ctx, BOB, 3)
    receive(ctx, CAROL, 4)
    last = receive(ctx, ALICE, 5)

    # When listing every conversation
    status, body = get(app, ctx, {"maxResults": 10})

    # Then three, by last activity, with the first and last message's times
    assert status == 200 and body["totalItems"] == 3 and body["nextPageToken"] is None
    assert [item["participants"] for item in body["data"]] == [[ALICE], [CAROL], [BOB]]
    alice = body["data"][0]
    assert alice["phoneNumberId"] == PN_BUSINESS and alice["id"].startswith("CN")
    assert alice["createdAt"] == "2026-05-01T10:01:00.000Z"
    assert alice["updatedAt"] == alice["lastActivityAt"] == "2026-05-01T10:05:00.000Z"
    assert alice["lastActivityId"] == last


def test_the_conversation_id_is_stable_and_is_its_messages_conversation_id(
    app: SandboxApp, ctx: Context
) -> None:
    receive(ctx, ALICE, 1)
    first = get(app, ctx, {"maxResults": 1})[1]["data"][0]["id"]
    receive(ctx, ALICE, 2)
    again = get(app, ctx, {"maxResults": 1})[1]["data"][0]["id"]
    assert first == again
    assert {m.conversation_id for m in ctx.store.messages("openphone")} == {first}


def test_pages_follow_the_token_without_repeats_or_gaps(app: SandboxApp, ctx: Context) -> None:
    customers = [f"+1415555020{n}" for n in range(5)]
    for minute, customer in enumerate(customers):
        receive(ctx, customer, minute)

    seen: list[str] = []
    query: dict[str, Any] = {"maxResults": 2}
    pages = 0
    while True:
        status, body = get(app, ctx, query)
        assert status == 200 and body["totalItems"] == 5
        pages += 1
        seen += [item["participants"][0] for item in body["data"]]
        if not body["nextPageToken"]:
            break
        query = {"maxResults": 2, "pageToken": body["nextPageToken"]}

    assert pages == 3 and seen == list(reversed(customers))


def test_updated_and_created_bounds_filter(app: SandboxApp, ctx: Context) -> None:
    receive(ctx, ALICE, 1)
    receive(ctx, BOB, 2)
    receive(ctx, BOB, 6)  # Bob's conversation: created at 2, updated at 6
    receive(ctx, CAROL, 4)

    def participants(**bounds: str) -> list[str]:
        status, body = get(app, ctx, {"maxResults": 10, **bounds})
        assert status == 200
        return [item["participants"][0] for item in body["data"]]

    assert participants(updatedAfter=at(3)) == [BOB, CAROL]
    assert participants(updatedBefore=at(5)) == [CAROL, ALICE]
    assert participants(createdAfter=at(1)) == [BOB, CAROL]  # strictly after
    assert participants(createdBefore=at(3), updatedAfter=at(5)) == [BOB]


def test_phone_numbers_filter_by_id_or_e164(app: SandboxApp, ctx: Context) -> None:
    receive(ctx, ALICE, 1)
    receive(ctx, BOB, 2, to=SANDBOX_NUMBER_A)  # the sandbox's other OpenPhone number

    def numbers(*filters: str) -> list[str]:
        status, body = get(app, ctx, [("maxResults", "10"), *(("phoneNumbers", item) for item in filters)])
        assert status == 200
        return [item["phoneNumberId"] for item in body["data"]]

    other = ctx.config.phone_number_id(SANDBOX_NUMBER_A)
    assert numbers() == [other, PN_BUSINESS]
    assert numbers(PN_BUSINESS) == [PN_BUSINESS]
    assert numbers(SANDBOX_NUMBER_A) == [other]
    assert numbers(PN_BUSINESS, SANDBOX_NUMBER_A) == [other, PN_BUSINESS]
    assert numbers("+14155550000") == []  # not a number of this workspace


@pytest.mark.parametrize(
    "query",
    [
        {},  # maxResults is required
        {"maxResults": 0},
        {"maxResults": 101},
        {"maxResults": "ten"},
        {"maxResults": 5, "pageToken": "!!"},
        {"maxResults": 5, "updatedAfter": "yesterday"},
        {"maxResults": 5, "phoneNumbers": "not-a-number"},
    ],
)
def test_bad_arguments_are_json_400s(app: SandboxApp, ctx: Context, query: dict[str, Any]) -> None:
    status, body = get(app, ctx, query)
    assert status == 400 and body["status"] == 400 and body["title"] == "Bad Request"


def test_a_wrong_api_key_is_401(app: SandboxApp) -> None:
    request = Request.build("GET", "/v1/conversations?maxResults=5", {"Authorization": "wrong"})
    response = app.handle(request)
    assert response.status == 401 and json.loads(response.body)["title"] == "Unauthorized"


def test_only_get_is_allowed(app: SandboxApp, ctx: Context) -> None:
    request = Request.build("POST", "/v1/conversations", {"Authorization": ctx.openphone_api_key})
    assert app.handle(request).status == 405


def test_conversations_share_the_openphone_rate_limit(app: SandboxApp, ctx: Context) -> None:
    # Given a limit of 1 request a second, used by a message list
    ctx.configure({"openphone_rate": 1.0})
    headers = {"Authorization": ctx.openphone_api_key}
    query = urlencode({"phoneNumberId": PN_BUSINESS, "participants": ALICE})
    assert app.handle(Request.build("GET", f"/v1/messages?{query}", headers)).status == 200

    # When the conversations are listed at once
    response = app.handle(Request.build("GET", "/v1/conversations?maxResults=5", headers))

    # Then 429 with Retry-After, counted like any other
    assert response.status == 429 and ("Retry-After", "1") in response.headers
    assert ctx.store.stats()["rate_limited"] == 1
