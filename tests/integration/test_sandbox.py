"""The sandbox provider over real HTTP on loopback: the REAL twilio SDK and plain `requests` against it,
and its webhooks checked by Switchboard's own verifiers with the local webhook secrets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from switchboard.models import Direction, Message
from switchboard.providers import openphone, twilio
from switchboard.providers.twilio_rest import twilio_client
from switchboard.webhook_request import WebhookRequest
from switchboard_ops.local.http_server import LocalHttpServer
from switchboard_ops.local.secrets import webhook_secrets_document
from switchboard_ops.sandbox import SANDBOX_NUMBER_A, SANDBOX_NUMBER_B, Sandbox

ROOT = Path(__file__).resolve().parents[2]
BUSINESS = "+14155559876"  # the sandbox's default OpenPhone number too
CUSTOMER = "+14155550123"
OTHER = "+14155550188"
SECRETS = webhook_secrets_document()


# --- a tiny webhook receiver standing in for Switchboard's API ---------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answers to give, in order; 200 once they run out
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": {key.lower(): value for key, value in self.headers.items()},
                            "body": body,
                            "answered": status,
                        }
                    )
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = LocalHttpServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count and time.monotonic() < deadline:
                self._cond.wait(0.05)
            return list(self.requests)

    def webhook_request(self, index: int, route: str) -> WebhookRequest:
        item = self.requests[index]
        return WebhookRequest(
            route=route, url=self.url + item["path"], body=item["body"], headers=item["headers"]
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def sandbox(receiver: Receiver) -> Iterator[Sandbox]:
    with Sandbox(receiver.url, status_delay=0.0, retry_delay=0.05, webhook_timeout=2.0) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> Any:
    return twilio_client(
        sandbox.twilio_account_sid, sandbox.twilio_auth_token, base_url=sandbox.url, timeout=5
    )


def messages_url(sandbox: Sandbox) -> str:
    return f"{sandbox.url}/2010-04-01/Accounts/{sandbox.twilio_account_sid}/Messages.json"


def openphone_get(sandbox: Sandbox, **params: Any) -> requests.Response:
    headers = {"Authorization": sandbox.openphone_api_key}
    return requests.get(f"{sandbox.url}/v1/messages", params=params, headers=headers, timeout=5)


def openphone_send(sandbox: Sandbox, payload: Any, key: str | None = None) -> requests.Response:
    headers = {"Authorization": sandbox.openphone_api_key if key is None else key}
    return requests.post(f"{sandbox.url}/v1/messages", json=payload, headers=headers, timeout=5)


def form(item: dict[str, Any]) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(item["body"].decode(), keep_blank_values=True).items()}


# --- Twilio: send ----------------------------------------------------------------------------------


def test_twilio_create_answers_201_with_a_queued_message_resource(sandbox: Sandbox, client: Any) -> None:
    # Given the real twilio SDK pointed at the sandbox
    # When it sends a message
    message = client.messages.create(to=CUSTOMER, from_=BUSINESS, body="Your appointment is at 3pm")

    # Then the sandbox created a queued outbound message with a Twilio-shaped sid
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.account_sid == sandbox.twilio_account_sid
    assert message.to == CUSTOMER and message.from_ == BUSINESS
    # And the raw answer is a 201 with RFC 2822 dates and Twilio's field set
    raw = requests.post(
        messages_url(sandbox),
        data={"To": CUSTOMER, "From": BUSINESS, "Body": "again"},
        auth=(sandbox.twilio_account_sid, sandbox.twilio_auth_token),
        timeout=5,
    )
    assert raw.status_code == 201
    body = raw.json()
    assert parsedate_to_datetime(body["date_created"]).tzinfo is not None
    assert body["date_sent"] is None and body["price"] is None and body["error_code"] is None
    assert body["num_segments"] == "1" and body["uri"].endswith(f"/Messages/{body['sid']}.json")


def test_twilio_create_is_refused_with_21610_after_the_recipient_texts_stop(
    sandbox: Sandbox, client: Any
) -> None:
    # Given the customer texted STOP to the business number
    sandbox.inbound("twilio", CUSTOMER, BUSINESS, "Stop")

    # When Switchboard sends to that customer from that number
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=CUSTOMER, from_=BUSINESS, body="Reminder")

    # Then Twilio's 21610 comes back, and another sender is unaffected
    assert refused.value.status == 400 and refused.value.code == 21610
    assert client.messages.create(to=CUSTOMER, from_="+14155550999", body="Other line").status == "queued"
    # And texting START opts back in
    sandbox.inbound("twilio", CUSTOMER, BUSINESS, "START")
    assert client.messages.create(to=CUSTOMER, from_=BUSINESS, body="Welcome back").status == "queued"


def test_twilio_create_rejects_an_invalid_to_with_21211(client: Any) -> None:
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to="not-a-number", from_=BUSINESS, body="x")
    assert refused.value.status == 400 and refused.value.code == 21211


def test_twilio_wrong_credentials_get_401_code_20003(sandbox: Sandbox) -> None:
    # Given a client holding the wrong auth token
    wrong = twilio_client(sandbox.twilio_account_sid, "wrong-token", base_url=sandbox.url, timeout=5)

    # When it sends, Then Twilio's "Authenticate" error comes back
    with pytest.raises(TwilioRestException) as refused:
        wrong.messages.create(to=CUSTOMER, from_=BUSINESS, body="x")
    assert refused.value.status == 401 and refused.value.code == 20003
    # And no credentials at all is a 401 too
    assert requests.get(messages_url(sandbox), timeout=5).status_code == 401


def test_twilio_fetch_returns_the_message_and_404s_an_unknown_sid(client: Any) -> None:
    sent = client.messages.create(to=CUSTOMER, from_=BUSINESS, body="Fetch me")
    assert client.messages(sent.sid).fetch().body == "Fetch me"
    with pytest.raises(TwilioRestException) as missing:
        client.messages("SM" + "0" * 32).fetch()
    assert missing.value.status == 404 and missing.value.code == 20404


# --- Twilio: list + paging -------------------------------------------------------------------------


def test_twilio_list_pages_through_a_date_window_with_the_real_sdk(sandbox: Sandbox, client: Any) -> None:
    # Given 27 messages in the last 40 hours and 3 from five days ago
    now = datetime.now(UTC).replace(microsecond=0)
    sandbox.configure(drop_rate=1.0)  # no webhooks needed here
    recent = {
        sandbox.inbound(
            "twilio", CUSTOMER, BUSINESS, f"recent {n}", date=(now - timedelta(hours=40 - n)).isoformat()
        )["sid"]
        for n in range(27)
    }
    for n in range(3):
        sandbox.inbound(
            "twilio", CUSTOMER, BUSINESS, f"old {n}", date=(now - timedelta(days=5, hours=n)).isoformat()
        )

    # When the SDK streams the 48-hour window four at a time
    listed = list(client.messages.stream(date_sent_after=now - timedelta(hours=48), page_size=4))

    # Then every message of the window arrives exactly once, newest first, as direction inbound
    sids = [message.sid for message in listed]
    assert len(sids) == 27 and set(sids) == recent
    dates = [message.date_sent for message in listed]
    assert dates == sorted(dates, reverse=True)
    assert {message.direction for message in listed} == {"inbound"}
    # And a date-only upper bound and a To filter narrow it further
    cutoff = (now - timedelta(days=4)).date()
    old = client.messages.list(date_sent_before=cutoff.isoformat(), page_size=2)
    assert sorted(message.body for message in old) == ["old 0", "old 1", "old 2"]
    assert client.messages.list(to=OTHER, page_size=10) == []


def test_twilio_paging_stays_exact_when_messages_arrive_between_pages(sandbox: Sandbox, client: Any) -> None:
    # Given 6 messages, read 2 per page
    for n in range(6):
        client.messages.create(to=CUSTOMER, from_=BUSINESS, body=f"m{n}")
    first = client.messages.page(page_size=2)
    seen = [record.sid for record in first]

    # When two more messages arrive before the next pages are fetched
    for n in range(2):
        client.messages.create(to=CUSTOMER, from_=BUSINESS, body=f"late {n}")
    page = first.next_page()
    while page is not None:
        seen.extend(record.sid for record in page)
        page = page.next_page()

    # Then the original six are each seen once (the cursor is a message, not an offset)
    assert len(seen) == 6 and len(set(seen)) == 6
    raw = requests.get(
        messages_url(sandbox),
        params={"PageSize": 2},
        auth=(sandbox.twilio_account_sid, sandbox.twilio_auth_token),
        timeout=5,
    ).json()
    assert {
        "first_page_uri",
        "next_page_uri",
        "previous_page_uri",
        "page",
        "page_size",
        "start",
        "end",
        "uri",
    } <= set(raw)
    assert raw["previous_page_uri"] is None and "PageToken=PA" in raw["next_page_uri"]


# --- OpenPhone --------------------------------------------------------------------------------------


def test_openphone_send_answers_202_with_the_message(sandbox: Sandbox) -> None:
    response = openphone_send(sandbox, {"content": "Hi from OpenPhone", "from": BUSINESS, "to": [CUSTOMER]})
    assert response.status_code == 202
    message = response.json()["data"]
    assert message["id"].startswith("AC") and message["status"] == "queued"
    assert message["direction"] == "outgoing" and message["to"] == [CUSTOMER] and message["from"] == BUSINESS
    assert message["phoneNumberId"] == sandbox.config.openphone_numbers[BUSINESS]
    assert message["text"] == "Hi from OpenPhone" and message["createdAt"].endswith("Z")


def test_openphone_refuses_bad_keys_and_bad_input(sandbox: Sandbox) -> None:
    payload = {"content": "x", "from": BUSINESS, "to": [CUSTOMER]}
    assert openphone_send(sandbox, payload, key="").status_code == 401
    assert openphone_send(sandbox, payload, key=f"Bearer {sandbox.openphone_api_key}").status_code == 401
    assert openphone_send(sandbox, {**payload, "to": CUSTOMER}).status_code == 400
    assert openphone_send(sandbox, {**payload, "content": ""}).status_code == 400
    assert openphone_send(sandbox, {**payload, "from": "+14155550000"}).status_code == 403
    assert openphone_get(sandbox, phoneNumberId="PNtoDbDhuz").status_code == 400  # participants required


def test_openphone_list_pages_chronologically_with_max_results_and_page_token(sandbox: Sandbox) -> None:
    # Given a conversation of 10 messages (sent and received) and one with someone else
    sandbox.configure(openphone_rate=1000.0, drop_rate=1.0)
    pn_id = sandbox.config.openphone_numbers[BUSINESS]
    expected = []
    for n in range(10):
        if n % 3 == 0:
            expected.append(sandbox.inbound("openphone", CUSTOMER, BUSINESS, f"in {n}")["id"])
        else:
            sent = openphone_send(sandbox, {"content": f"out {n}", "from": pn_id, "to": [CUSTOMER]})
            expected.append(sent.json()["data"]["id"])
    openphone_send(sandbox, {"content": "elsewhere", "from": BUSINESS, "to": [OTHER]})

    # When the conversation is listed four at a time
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"phoneNumberId": pn_id, "participants": [CUSTOMER], "maxResults": 4}
        if token:
            params["pageToken"] = token
        page = openphone_get(sandbox, **params).json()
        pages += 1
        assert page["totalItems"] == 10
        seen.extend(item["id"] for item in page["data"])
        token = page["nextPageToken"]
        if not token:
            break

    # Then all ten arrive once, oldest first, over three pages
    assert seen == expected and pages == 3
    # And maxResults outside 1..100 is refused
    assert (
        openphone_get(sandbox, phoneNumberId=pn_id, participants=[CUSTOMER], maxResults=101).status_code
        == 400
    )


def test_openphone_rate_limit_answers_429_with_retry_after_under_a_burst(sandbox: Sandbox) -> None:
    # Given OpenPhone's 10 requests a second, When 30 requests arrive back to back
    pn_id = sandbox.config.openphone_numbers[BUSINESS]
    started = time.monotonic()
    with requests.Session() as session:
        responses = [
            session.get(
                f"{sandbox.url}/v1/messages",
                params={"phoneNumberId": pn_id, "participants": CUSTOMER},
                headers={"Authorization": sandbox.openphone_api_key},
                timeout=5,
            )
            for _ in range(30)
        ]

    refilled = int(10 * (time.monotonic() - started)) + 1  # tokens back while the burst ran

    # Then the full bucket's ten pass (plus any refill) and every other request is a 429 with Retry-After
    ok = [response for response in responses if response.status_code == 200]
    limited = [response for response in responses if response.status_code == 429]
    assert len(ok) + len(limited) == 30
    assert 10 <= len(ok) <= 10 + refilled and len(limited) >= 1
    assert all(int(response.headers["Retry-After"]) >= 1 for response in limited)
    assert limited[0].json()["status"] == 429
    assert sandbox.stats()["rate_limited"] == len(limited)


def test_twilio_rate_limit_is_error_20429(sandbox: Sandbox, client: Any) -> None:
    sandbox.configure(twilio_rate=2.0)
    codes = []
    for _ in range(6):
        try:
            client.messages.create(to=CUSTOMER, from_=BUSINESS, body="burst")
            codes.append(201)
        except TwilioRestException as exc:
            codes.append(exc.code)
    assert codes.count(20429) >= 3


# --- faults ----------------------------------------------------------------------------------------


def test_a_503_fault_fails_once_then_the_api_answers_again(sandbox: Sandbox, client: Any) -> None:
    # Given a fault plan: the next request to Twilio's API answers 503 (set over HTTP)
    planned = requests.post(
        f"{sandbox.url}/sandbox/faults", json={"path": "/2010-04-01/", "status": 503, "count": 1}, timeout=5
    )
    assert planned.status_code == 200

    # When the SDK sends twice, Then the first fails with 503 and the second is accepted
    with pytest.raises(TwilioRestException) as failed:
        client.messages.create(to=CUSTOMER, from_=BUSINESS, body="first")
    assert failed.value.status == 503
    assert client.messages.create(to=CUSTOMER, from_=BUSINESS, body="second").status == "queued"
    assert sandbox.stats()["faults"] == 1


def test_latency_and_timeout_faults_on_openphone(sandbox: Sandbox) -> None:
    payload = {"content": "x", "from": BUSINESS, "to": [CUSTOMER]}
    # Given a request that hangs longer than the client waits
    sandbox.add_faults({"path": "/v1/messages", "method": "POST", "timeout_ms": 1500})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            f"{sandbox.url}/v1/messages",
            json=payload,
            headers={"Authorization": sandbox.openphone_api_key},
            timeout=(2, 0.3),
        )
    # And one that is slow but answers
    sandbox.add_faults({"path": "/v1/messages", "latency_ms": 200})
    started = time.monotonic()
    assert openphone_send(sandbox, payload).status_code == 202
    assert time.monotonic() - started >= 0.2
    # And a 500 once
    sandbox.add_faults({"path": "/v1/*", "status": 500})
    assert openphone_send(sandbox, payload).status_code == 500
    assert openphone_send(sandbox, payload).status_code == 202


# --- inbound webhooks ------------------------------------------------------------------------------


def test_twilio_inbound_is_delivered_signed_with_twilios_field_set(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    # Given Twilio receives a message for the business number
    result = sandbox.inbound("twilio", CUSTOMER, BUSINESS, "Yes, Tuesday at 3pm works")

    # Then Switchboard's API got a signed, form-encoded POST at /webhooks/twilio
    assert result["delivered"] is True and result["sid"].startswith("SM")
    [delivered] = receiver.wait_for(1)
    assert delivered["path"] == "/webhooks/twilio"
    assert delivered["headers"]["content-type"] == "application/x-www-form-urlencoded"
    request = receiver.webhook_request(0, "twilio")
    twilio.verify(request, SECRETS["twilio"], time.time())  # raises if the signature is wrong
    # And it carries the field set of a real inbound SMS webhook
    sample = json.loads((ROOT / "events/payloads/twilio_inbound_sms.json").read_text())
    assert set(form(delivered)) == set(parse_qs(sample["body"]))
    message = twilio.parse_message(request, time.time())
    assert (message.provider_message_id, message.sender, message.recipient) == (
        result["sid"],
        CUSTOMER,
        BUSINESS,
    )
    assert message.direction == Direction.INBOUND and message.body == "Yes, Tuesday at 3pm works"


def test_twilio_inbound_media_becomes_an_mms(sandbox: Sandbox, receiver: Receiver) -> None:
    result = sandbox.inbound("twilio", CUSTOMER, BUSINESS, "photo", media=["https://example.com/cat.png"])
    assert result["sid"].startswith("MM")
    fields = form(receiver.wait_for(1)[0])
    assert fields["NumMedia"] == "1" and fields["MediaContentType0"] == "image/png"
    twilio.verify(receiver.webhook_request(0, "twilio"), SECRETS["twilio"], time.time())


def test_openphone_inbound_is_delivered_with_a_legacy_signature(sandbox: Sandbox, receiver: Receiver) -> None:
    # Given OpenPhone receives a message over HTTP
    response = requests.post(
        f"{sandbox.url}/sandbox/inbound",
        json={"provider": "openphone", "from": CUSTOMER, "to": BUSINESS, "body": "Running late"},
        timeout=10,
    )

    # Then a legacy-signed message.received envelope reached /webhooks/openphone
    assert response.status_code == 200 and response.json()["delivered"] is True
    [delivered] = receiver.wait_for(1)
    assert delivered["path"] == "/webhooks/openphone" and "openphone-signature" in delivered["headers"]
    request = receiver.webhook_request(0, "openphone")
    openphone.verify(request, SECRETS["openphone"], time.time())
    message = openphone.parse(request, time.time())
    assert message is not None and message.provider_message_id == response.json()["id"]
    assert json.loads(delivered["body"])["type"] == "message.received"
    # And the list API shows it as incoming
    pn_id = sandbox.config.openphone_numbers[BUSINESS]
    listed = openphone_get(sandbox, phoneNumberId=pn_id, participants=[CUSTOMER]).json()["data"]
    assert [(item["id"], item["direction"]) for item in listed] == [(response.json()["id"], "incoming")]


def test_drop_rate_one_delivers_nothing_but_the_message_is_listed(
    sandbox: Sandbox, receiver: Receiver, client: Any
) -> None:
    # Given every inbound webhook is dropped (set over HTTP)
    config = requests.post(f"{sandbox.url}/sandbox/config", json={"drop_rate": 1.0, "seed": 1}, timeout=5)
    assert config.status_code == 200 and config.json()["drop_rate"] == 1.0

    # When Twilio receives a message
    result = sandbox.inbound("twilio", CUSTOMER, BUSINESS, "Lost webhook")

    # Then no webhook arrives, yet the provider's list has the message (reconciliation finds it)
    assert result == {
        "provider": "twilio",
        "sid": result["sid"],
        "dropped": True,
        "delivered": False,
        "webhook_status": None,
    }
    assert sandbox.wait_idle(5)
    assert receiver.requests == []
    assert [message.sid for message in client.messages.list(from_=CUSTOMER)] == [result["sid"]]
    assert sandbox.stats()["dropped"] == 1 and sandbox.stats()["received"] == 1


def test_a_failing_webhook_is_retried_once(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.statuses = [500, 200]
    assert sandbox.inbound("twilio", CUSTOMER, BUSINESS, "retry me")["delivered"] is True
    assert [item["answered"] for item in receiver.requests] == [500, 200]
    assert sandbox.stats()["retries"] == 1 and sandbox.stats()["webhooks_delivered"] == 1


# --- status callbacks ------------------------------------------------------------------------------


def _callbacks(receiver: Receiver, count: int) -> list[dict[str, str]]:
    items = receiver.wait_for(count)
    assert len(items) == count
    for index in range(count):
        twilio.verify(receiver.webhook_request(index, "twilio/status"), SECRETS["twilio"], time.time())
    return [form(item) for item in items]


def test_status_callbacks_arrive_signed_sent_then_delivered(
    sandbox: Sandbox, receiver: Receiver, client: Any
) -> None:
    # Given a send with a StatusCallback URL
    sent = client.messages.create(
        to=CUSTOMER,
        from_=BUSINESS,
        body="Track me",
        status_callback=f"{receiver.url}/webhooks/twilio/status?x=1",
    )

    # When the carrier delivers it
    assert sandbox.wait_idle(5)

    # Then two signed callbacks arrived, sent then delivered (none for the initial queued)
    callbacks = _callbacks(receiver, 2)
    assert [item["MessageStatus"] for item in callbacks] == ["sent", "delivered"]
    assert set(callbacks[0]) == {
        "SmsSid",
        "SmsStatus",
        "MessageStatus",
        "To",
        "From",
        "MessageSid",
        "AccountSid",
        "ApiVersion",
    }
    assert all(item["MessageSid"] == sent.sid and item["To"] == CUSTOMER for item in callbacks)
    update = twilio.parse_status(receiver.webhook_request(1, "twilio/status"), time.time())
    assert (update.provider_message_id, update.status) == (sent.sid, "delivered")
    fetched = client.messages(sent.sid).fetch()
    assert fetched.status == "delivered" and fetched.date_sent is not None
    assert sandbox.stats()["callbacks"] == 2


@pytest.mark.parametrize(
    ("outcome", "statuses", "code"),
    [("undelivered", ["sent", "undelivered"], "30003"), ("failed", ["failed"], "30008")],
)
def test_a_per_number_rule_makes_sends_fail(
    sandbox: Sandbox, receiver: Receiver, client: Any, outcome: str, statuses: list[str], code: str
) -> None:
    # Given the sandbox's carrier can't reach one number
    sandbox.configure(outcomes={OTHER: outcome})

    # When messages go to it and to another number
    failing = client.messages.create(
        to=OTHER, from_=BUSINESS, body="x", status_callback=f"{receiver.url}/webhooks/twilio/status"
    )
    assert sandbox.wait_idle(5)

    # Then its callbacks end in the failure with Twilio's error code
    callbacks = _callbacks(receiver, len(statuses))
    assert [item["MessageStatus"] for item in callbacks] == statuses
    assert callbacks[-1]["ErrorCode"] == code
    fetched = client.messages(failing.sid).fetch()
    assert fetched.status == outcome and fetched.error_code == int(code)


def test_out_of_order_flag_delivers_delivered_before_sent(
    sandbox: Sandbox, receiver: Receiver, client: Any
) -> None:
    sandbox.configure(out_of_order=True)
    sent = client.messages.create(
        to=CUSTOMER, from_=BUSINESS, body="x", status_callback=f"{receiver.url}/webhooks/twilio/status"
    )
    assert sandbox.wait_idle(5)
    assert [item["MessageStatus"] for item in _callbacks(receiver, 2)] == ["delivered", "sent"]
    assert client.messages(sent.sid).fetch().status == "delivered"  # the resource itself is not regressed


def test_openphone_delivery_sends_a_signed_message_delivered_webhook(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    sent = openphone_send(sandbox, {"content": "Confirmed", "from": BUSINESS, "to": [CUSTOMER]}).json()[
        "data"
    ]
    assert sandbox.wait_idle(5)
    [delivered] = receiver.wait_for(1)
    request = receiver.webhook_request(0, "openphone")
    openphone.verify(request, SECRETS["openphone"], time.time())
    update = openphone.parse(request, time.time())
    assert update is not None and (update.provider_message_id, update.status) == (sent["id"], "delivered")
    assert json.loads(delivered["body"])["type"] == "message.delivered"


# --- the control routes ----------------------------------------------------------------------------


def test_control_routes_stats_flush_reset_and_errors(sandbox: Sandbox, client: Any) -> None:
    client.messages.create(to=CUSTOMER, from_=BUSINESS, body="count me")
    assert (
        requests.post(f"{sandbox.url}/sandbox/flush", json={"timeout": 5}, timeout=10).json()["idle"] is True
    )
    stats = requests.get(f"{sandbox.url}/sandbox/stats", timeout=5).json()
    assert stats["sent"] == 1 and stats["pending"] == 0

    # Unknown paths and bad JSON are JSON errors, never a stack trace
    missing = requests.get(f"{sandbox.url}/nope", timeout=5)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    bad = requests.post(
        f"{sandbox.url}/sandbox/inbound",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert bad.status_code == 400 and "Traceback" not in bad.text
    assert requests.post(f"{sandbox.url}/sandbox/config", json={"drop_rate": 2}, timeout=5).status_code == 400
    assert (
        requests.post(
            f"{sandbox.url}/sandbox/faults", json={"path": "/v1", "bogus": 1}, timeout=5
        ).status_code
        == 400
    )

    # Reset forgets messages and counts
    assert requests.post(f"{sandbox.url}/sandbox/reset", timeout=5).status_code == 200
    assert sandbox.messages() == [] and sandbox.stats()["sent"] == 0
    assert client.messages.list() == []


def test_a_seeded_drop_rate_is_reproducible(sandbox: Sandbox) -> None:
    def pattern() -> list[bool]:
        sandbox.reset()
        sandbox.configure(drop_rate=0.5, seed=7)
        return [
            sandbox.inbound("twilio", CUSTOMER, BUSINESS, f"m{n}", wait=False)["dropped"] for n in range(20)
        ]

    first = pattern()
    assert first == pattern() and 0 < sum(first) < 20
    assert sandbox.wait_idle(5)


# --- loop-back: a send to a number the sandbox owns arrives there ----------------------------------


def _by_path(receiver: Receiver, count: int) -> dict[str, list[dict[str, Any]]]:
    items = receiver.wait_for(count)
    assert len(items) == count, [item["path"] for item in items]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        grouped.setdefault(item["path"].split("?", 1)[0], []).append(item)
    return grouped


def test_a_twilio_send_to_an_owned_number_comes_back_as_its_signed_inbound_webhook(
    sandbox: Sandbox, receiver: Receiver, client: Any
) -> None:
    # Given the sandbox owns both canary numbers
    assert {SANDBOX_NUMBER_A, SANDBOX_NUMBER_B} <= set(sandbox.config.twilio_numbers)

    # When the real SDK sends from one to the other, with a status callback
    sent = client.messages.create(
        to=SANDBOX_NUMBER_B,
        from_=SANDBOX_NUMBER_A,
        body="Switchboard health check SWB-CANARY-1795593600-0a1b2c3d",
        status_callback=f"{receiver.url}/webhooks/twilio/status",
    )
    assert sandbox.wait_idle(5)

    # Then the callbacks (sent, delivered) arrive, and B's inbound webhook - signed, From A, same text
    grouped = _by_path(receiver, 3)
    assert [form(item)["MessageStatus"] for item in grouped["/webhooks/twilio/status"]] == [
        "sent",
        "delivered",
    ]
    [inbound] = grouped["/webhooks/twilio"]
    index = receiver.requests.index(inbound)
    request = receiver.webhook_request(index, "twilio")
    twilio.verify(request, SECRETS["twilio"], time.time())
    message = twilio.parse_message(request, time.time())
    assert (message.sender, message.recipient, message.direction) == (
        SANDBOX_NUMBER_A,
        SANDBOX_NUMBER_B,
        Direction.INBOUND,
    )
    assert message.body.endswith("SWB-CANARY-1795593600-0a1b2c3d")
    assert message.provider_message_id != sent.sid  # B's copy is a message of its own
    # And the provider lists both sides of it
    directions = sorted(m.direction for m in sandbox.messages("twilio"))
    assert directions == ["inbound", "outbound"]
    assert sandbox.stats()["looped_back"] == 1 and sandbox.stats()["webhooks_delivered"] == 1


def test_a_send_to_a_customer_number_does_not_loop_back(
    sandbox: Sandbox, receiver: Receiver, client: Any
) -> None:
    client.messages.create(
        to=CUSTOMER,
        from_=SANDBOX_NUMBER_A,
        body="hi",
        status_callback=f"{receiver.url}/webhooks/twilio/status",
    )
    assert sandbox.wait_idle(5)

    assert set(_by_path(receiver, 2)) == {"/webhooks/twilio/status"}
    assert sandbox.stats()["looped_back"] == 0


def test_drop_rate_drops_the_looped_back_webhook_but_not_the_status_callbacks(
    sandbox: Sandbox, receiver: Receiver, client: Any
) -> None:
    # Given every inbound webhook is dropped
    requests.post(f"{sandbox.url}/sandbox/config", json={"drop_rate": 1.0}, timeout=5).raise_for_status()

    # When a canary goes from A to B
    client.messages.create(
        to=SANDBOX_NUMBER_B,
        from_=SANDBOX_NUMBER_A,
        body="canary",
        status_callback=f"{receiver.url}/webhooks/twilio/status",
    )
    assert sandbox.wait_idle(5)

    # Then the sender still hears "delivered", but B's webhook never reaches Switchboard
    assert set(_by_path(receiver, 2)) == {"/webhooks/twilio/status"}
    stats = sandbox.stats()
    assert (stats["looped_back"], stats["dropped"], stats["webhooks_delivered"]) == (1, 1, 0)


def test_an_undelivered_send_to_an_owned_number_never_arrives(
    sandbox: Sandbox, receiver: Receiver, client: Any
) -> None:
    sandbox.configure(outcomes={SANDBOX_NUMBER_B: "undelivered"})
    client.messages.create(to=SANDBOX_NUMBER_B, from_=SANDBOX_NUMBER_A, body="lost")
    assert sandbox.wait_idle(5)

    assert receiver.requests == [] and sandbox.stats()["looped_back"] == 0


def test_an_openphone_send_to_an_owned_number_arrives_as_message_received(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    # When OpenPhone sends from A to B (both numbers of the sandbox's workspace)
    response = openphone_send(
        sandbox, {"content": "canary", "from": SANDBOX_NUMBER_A, "to": [SANDBOX_NUMBER_B]}
    )
    assert response.status_code == 202
    assert sandbox.wait_idle(5)

    # Then B's message.received (legacy-signed) and A's message.delivered both reach Switchboard
    items = receiver.wait_for(2)
    kinds = sorted(json.loads(item["body"])["type"] for item in items)
    assert kinds == ["message.delivered", "message.received"]
    index = next(i for i, item in enumerate(items) if json.loads(item["body"])["type"] == "message.received")
    request = receiver.webhook_request(index, "openphone")
    openphone.verify(request, SECRETS["openphone"], time.time())
    message = openphone.parse(request, time.time())
    assert isinstance(message, Message)
    assert (message.sender, message.recipient, message.body) == (SANDBOX_NUMBER_A, SANDBOX_NUMBER_B, "canary")


def test_a_twilio_send_to_an_openphone_number_arrives_at_openphone(
    sandbox: Sandbox, receiver: Receiver, client: Any
) -> None:
    # BUSINESS is the sandbox's OpenPhone number only: a Twilio SMS to it is OpenPhone's inbound message
    client.messages.create(to=BUSINESS, from_=SANDBOX_NUMBER_A, body="across providers")
    assert sandbox.wait_idle(5)

    [delivered] = receiver.wait_for(1)
    assert delivered["path"] == "/webhooks/openphone"
    assert json.loads(delivered["body"])["data"]["object"]["from"] == SANDBOX_NUMBER_A
