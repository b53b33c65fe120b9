"""Twilio's message list through the real SDK with a scripted HTTP client (no network): a throttled page
load waits the Retry-After of the SDK's public response; a refused one is not retried."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from switchboard.providers.listing import ListRejected, Pacing
from switchboard.providers.twilio_listing import list_twilio_messages
from switchboard.retry import PROVIDER_LISTING

AFTER = datetime(2026, 11, 23, tzinfo=UTC)
PAGE = {
    "messages": [
        {
            "sid": "SM1",
            "from": "+14155550123",
            "to": "+14155559876",
            "body": "hi",
            "direction": "inbound",
            "status": "received",
            "num_media": "0",
            "date_sent": "Tue, 24 Nov 2026 10:00:00 +0000",
            "account_sid": "AC1",
        }
    ],
    "next_page_uri": None,
    "page": 0,
    "page_size": 50,
    "uri": "/2010-04-01/Accounts/AC1/Messages.json",
    "first_page_uri": "/2010-04-01/Accounts/AC1/Messages.json?Page=0",
    "previous_page_uri": None,
    "start": 0,
    "end": 0,
}


class ScriptedHttp(HttpClient):
    """Twilio's HTTP client interface answering the scripted responses in turn."""

    def __init__(self, *responses: Response) -> None:
        super().__init__(logger=None, is_async=False)
        self.responses = list(responses)

    def request(self, method: str, uri: str, *args: Any, **kwargs: Any) -> Response:
        return self.responses.pop(0)


def listed(http: ScriptedHttp, sleeps: list[float]) -> list[Any]:
    pacing = Pacing(policy=replace(PROVIDER_LISTING, base_seconds=0.5), sleep=sleeps.append)
    return list(
        list_twilio_messages(
            {},
            after=AFTER,
            before=AFTER + timedelta(hours=48),
            pacing=pacing,
            client=Client("AC1", "token", http_client=http),
        )
    )


def test_a_throttled_page_load_waits_the_retry_after_of_the_sdks_response():
    # Given Twilio answers 429 with Retry-After: 3, then the page
    http = ScriptedHttp(
        Response(429, json.dumps({"code": 20429, "message": "Too Many Requests"}), {"Retry-After": "3"}),
        Response(200, json.dumps(PAGE), {}),
    )
    sleeps: list[float] = []

    # When its messages are listed
    [(items, cursor)] = listed(http, sleeps)

    # Then the list waited Retry-After's 3 s (not the 0.5 s backoff) and got the page
    assert sleeps == [3.0]
    assert [message.provider_message_id for message in items] == ["SM1"] and cursor is None


def test_a_refused_page_load_is_rejected_without_a_retry():
    # Given Twilio refuses the credentials
    http = ScriptedHttp(Response(401, json.dumps({"code": 20003, "message": "Authenticate"}), {}))
    sleeps: list[float] = []

    # When its messages are listed, Then the list is rejected at once
    with pytest.raises(ListRejected, match="401"):
        listed(http, sleeps)
    assert sleeps == []
