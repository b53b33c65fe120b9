"""The sandbox's routes without a socket: SandboxApp.handle(Request) -> Response, and the lifecycle run
by hand (the delivery thread is never started, so scheduled work is stepped through explicitly)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from switchboard_ops.sandbox import openphone_api, twilio_api
from switchboard_ops.sandbox.core import Context
from switchboard_ops.sandbox.delivery import Outcome, Webhook
from switchboard_ops.sandbox.server import SandboxApp
from switchboard_ops.sandbox.wire import Request

BUSINESS, CUSTOMER = "+14155559876", "+14155550123"


def twilio_request(ctx: Context, method: str, target: str, form: dict[str, str] | None = None) -> Request:
    token = base64.b64encode(f"{ctx.twilio_account_sid}:{ctx.twilio_auth_token}".encode()).decode()
    body = urlencode(form or {}).encode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/x-www-form-urlencoded"}
    return Request.build(method, target, headers, body)


def messages_path(ctx: Context) -> str:
    return f"/2010-04-01/Accounts/{ctx.twilio_account_sid}/Messages.json"


def answer(app: SandboxApp, request: Request) -> tuple[int, Any]:
    response = app.handle(request)
    return response.status, json.loads(response.body) if response.body else None


def receive(ctx: Context, provider: str, body: str, date: str, sender: str = CUSTOMER) -> str:
    module = twilio_api if provider == "twilio" else openphone_api
    payload = {"from": sender, "to": BUSINESS, "body": body, "date": date, "wait": False}
    result = ctx.receive(provider, payload, module.inbound)
    return str(result["sid" if provider == "twilio" else "id"])


def test_twilio_previous_page_uri_leads_back_to_the_same_page(app: SandboxApp, ctx: Context) -> None:
    # Given 7 messages, 3 to a page
    for n in range(7):
        receive(ctx, "twilio", f"m{n}", f"2026-01-01T10:00:0{n}Z")
    status, first = answer(app, twilio_request(ctx, "GET", messages_path(ctx) + "?PageSize=3"))
    assert status == 200 and [m["body"] for m in first["messages"]] == ["m6", "m5", "m4"]

    # When paging forward twice and back once
    _, second = answer(app, twilio_request(ctx, "GET", first["next_page_uri"]))
    _, third = answer(app, twilio_request(ctx, "GET", second["next_page_uri"]))
    _, back = answer(app, twilio_request(ctx, "GET", third["previous_page_uri"]))

    # Then the pages are exact and the way back returns the second page
    assert [m["body"] for m in second["messages"]] == ["m3", "m2", "m1"]
    assert [m["body"] for m in third["messages"]] == ["m0"] and third["next_page_uri"] is None
    assert (third["page"], third["start"], third["end"]) == (2, 6, 6)
    assert [m["body"] for m in back["messages"]] == ["m3", "m2", "m1"] and back["page"] == 1


def test_twilio_filters_carry_into_next_page_uri(app: SandboxApp, ctx: Context) -> None:
    for n in range(4):
        receive(ctx, "twilio", f"m{n}", f"2026-01-02T10:00:0{n}Z")
    query = urlencode({"From": CUSTOMER, "DateSent>": "2026-01-02", "PageSize": 2})
    _, page = answer(app, twilio_request(ctx, "GET", f"{messages_path(ctx)}?{query}"))
    carried = parse_qs(urlsplit(page["next_page_uri"]).query)
    assert carried["From"] == [CUSTOMER] and carried["DateSent>"] == ["2026-01-02"]
    assert carried["PageToken"][0].startswith("PASM")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"DateSent": "2026-03-02"}, ["b", "c"]),
        ({"DateSent": "2026-03-02T17:00:00Z"}, ["b", "c"]),  # the day of the instant
        ({"DateSent<": "2026-03-02"}, ["a", "b", "c"]),  # a whole day is inclusive
        ({"DateSent<": "2026-03-02T12:00:00Z"}, ["a", "b"]),
        ({"DateSent>": "2026-03-02T12:00:00Z"}, ["c", "d"]),
        ({"DateSent>": "2026-03-03", "DateSent<": "2026-03-03"}, ["d"]),
    ],
)
def test_twilio_date_sent_filters(
    app: SandboxApp, ctx: Context, params: dict[str, str], expected: list[str]
) -> None:
    for body, date in (
        ("a", "2026-03-01T23:59:59Z"),
        ("b", "2026-03-02T00:00:00Z"),
        ("c", "2026-03-02T23:00:00Z"),
        ("d", "2026-03-03T05:00:00Z"),
    ):
        receive(ctx, "twilio", body, date)
    _, page = answer(app, twilio_request(ctx, "GET", f"{messages_path(ctx)}?{urlencode(params)}"))
    assert sorted(message["body"] for message in page["messages"]) == expected


def test_twilio_bad_list_arguments_are_400s(app: SandboxApp, ctx: Context) -> None:
    for query in ("DateSent%3E=yesterday", "PageToken=PASMnope", "PageSize=ten"):
        status, body = answer(app, twilio_request(ctx, "GET", f"{messages_path(ctx)}?{query}"))
        assert status == 400 and body["status"] == 400 and "code" in body


def test_twilio_status_lifecycle_steps_and_callback_payloads(ctx: Context, app: SandboxApp) -> None:
    # Given a send with a status callback, the delivery thread stopped
    form = {"To": CUSTOMER, "From": BUSINESS, "Body": "x", "StatusCallback": "http://127.0.0.1:9/cb"}
    status, created = answer(app, twilio_request(ctx, "POST", messages_path(ctx), form))
    assert status == 201 and created["status"] == "queued" and created["date_sent"] is None

    # When the scheduled status changes run one by one
    posted: list[Any] = []

    def record(webhook: Webhook, delay: float = 0.0) -> Outcome:
        posted.append(webhook)
        return Outcome(webhook.kind, webhook.url, webhook.message_id)

    ctx.delivery.post = record  # type: ignore[method-assign]
    while ctx.delivery._heap:
        _, _, task = ctx.delivery._heap.pop(0)
        task()

    # Then the message went sent -> delivered with a callback for each
    stored = ctx.store.get("twilio", created["sid"])
    assert stored is not None and stored.status == "delivered" and stored.sent_at is not None
    assert [parse_qs(webhook.body.decode())["MessageStatus"] for webhook in posted] == [
        ["sent"],
        ["delivered"],
    ]
    headers = posted[0].sign(posted[0].url, posted[0].body)
    assert set(headers) == {"x-twilio-signature"}


def test_openphone_list_requires_a_valid_page_token(app: SandboxApp, ctx: Context) -> None:
    headers = {"Authorization": ctx.openphone_api_key}
    pn_id = ctx.config.openphone_numbers[BUSINESS]
    query = urlencode({"phoneNumberId": pn_id, "participants": CUSTOMER, "pageToken": "!!"})
    status, body = answer(app, Request.build("GET", f"/v1/messages?{query}", headers))
    assert status == 400 and body["status"] == 400


def test_openphone_created_after_and_before_bound_the_list(app: SandboxApp, ctx: Context) -> None:
    for n in range(5):
        receive(ctx, "openphone", f"m{n}", datetime(2026, 5, 1, 10, n, tzinfo=UTC).isoformat())
    pn_id = ctx.config.openphone_numbers[BUSINESS]
    query = urlencode(
        {
            "phoneNumberId": pn_id,
            "participants": CUSTOMER,
            "createdAfter": "2026-05-01T10:01:00Z",
            "createdBefore": "2026-05-01T10:04:00Z",
        }
    )
    status, body = answer(
        app, Request.build("GET", f"/v1/messages?{query}", {"Authorization": ctx.openphone_api_key})
    )
    assert status == 200 and [item["text"] for item in body["data"]] == ["m2", "m3"]
    assert body["totalItems"] == 2 and body["nextPageToken"] is None


def test_openphone_inbound_to_an_unknown_number_is_a_clear_400(ctx: Context) -> None:
    from switchboard_ops.sandbox.wire import HttpError

    payload = {"from": CUSTOMER, "to": "+14155550000", "body": "hi", "wait": False}
    with pytest.raises(HttpError) as refused:
        ctx.receive("openphone", payload, openphone_api.inbound)
    assert refused.value.status == 400 and "openphone_numbers" in refused.value.payload["detail"]


def test_an_unexpected_error_is_a_json_500_without_a_trace(
    app: SandboxApp, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(twilio_api, "handle", explode)
    response = app.handle(twilio_request(ctx, "GET", messages_path(ctx)))
    assert response.status == 500 and b"secret internals" not in response.body
    assert json.loads(response.body)["error"] == "internal"


def test_unknown_routes_and_methods(app: SandboxApp, ctx: Context) -> None:
    assert answer(app, Request.build("GET", "/elsewhere"))[0] == 404
    assert answer(app, Request.build("PUT", "/sandbox/stats"))[0] == 405
    status, body = answer(
        app, twilio_request(ctx, "GET", f"/2010-04-01/Accounts/{ctx.twilio_account_sid}/Calls.json")
    )
    assert status == 404 and body["code"] == 20404
    status, _ = answer(app, Request.build("GET", "/v1/contacts", {"Authorization": ctx.openphone_api_key}))
    assert status == 404


def test_a_fault_rule_answers_with_the_providers_error_shape(app: SandboxApp, ctx: Context) -> None:
    status, _ = answer(
        app, Request.build("POST", "/sandbox/faults", body=b'{"path": "/2010-04-01/", "status": 503}')
    )
    assert status == 200
    status, body = answer(app, twilio_request(ctx, "GET", messages_path(ctx)))
    assert status == 503 and body["status"] == 503 and body["code"] == 20503
    assert answer(app, twilio_request(ctx, "GET", messages_path(ctx)))[0] == 200
    assert ctx.store.stats()["faults"] == 1
