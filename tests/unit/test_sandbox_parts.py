"""The sandbox provider's pure parts: token bucket, fault plan, config checks, SMS segments, and the
twilio SDK base-URL switch. No sockets."""

from __future__ import annotations

import pytest

from switchboard.providers.twilio_rest import rebase, twilio_client
from switchboard_ops.sandbox.config import ConfigError, SandboxConfig
from switchboard_ops.sandbox.faults import FaultError, FaultPlan, FaultRule, rules_from_json
from switchboard_ops.sandbox.ratelimit import RateLimits, TokenBucket, retry_after_header
from switchboard_ops.sandbox.twilio_api import segments
from switchboard_ops.sandbox.wire import phone_arg


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_full_burst_then_refills_at_its_rate() -> None:
    # Given a 10/s bucket, When 12 requests arrive at one instant
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)
    waits = [bucket.try_acquire() for _ in range(12)]

    # Then ten pass and the rest learn a tenth of a second is needed
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(0.1)
    # And after 0.25 s two more tokens are back, not more
    clock.now += 0.25
    assert [bucket.try_acquire() for _ in range(3)][:2] == [0.0, 0.0]
    assert bucket.try_acquire() > 0


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"


def test_rate_limits_are_per_provider_and_reconfigurable() -> None:
    clock = FakeClock()
    limits = RateLimits({"twilio": 1.0, "openphone": 1.0}, clock=clock)
    assert limits.try_acquire("twilio") == 0.0
    assert limits.try_acquire("twilio") > 0
    assert limits.try_acquire("openphone") == 0.0
    limits.configure({"twilio": 5.0})
    assert limits.try_acquire("twilio") == 0.0  # a new rate starts a full bucket
    assert limits.try_acquire("unknown") == 0.0


def test_fault_plan_spends_counts_in_order_and_matches_prefixes_globs_and_methods() -> None:
    plan = FaultPlan()
    plan.add(
        FaultRule(path="/v1/messages", method="POST", status=503, count=2),
        FaultRule(path="/2010-04-01/Accounts/*/Messages.json", status=500, count=None),
    )
    assert plan.take("GET", "/v1/messages") is None  # method differs
    assert [plan.take("POST", "/v1/messages") is not None for _ in range(3)] == [True, True, False]
    rule = plan.take("GET", "/2010-04-01/Accounts/AC1/Messages.json")
    assert rule is not None and rule.status == 500
    assert plan.take("GET", "/2010-04-01/Accounts/AC1/Messages.json") is not None  # until cleared
    plan.clear()
    assert plan.rules() == []


@pytest.mark.parametrize(
    "payload",
    [
        {"path": "/v1"},  # does nothing
        {"path": "v1", "status": 500},
        {"path": "/v1", "status": 200},
        {"path": "/v1", "status": 500, "count": 0},
        {"path": "/v1", "latency_ms": -1},
        {"path": "/v1", "status": 500, "extra": True},
        "not an object",
    ],
)
def test_fault_rules_from_json_refuse_bad_rules(payload: object) -> None:
    with pytest.raises(FaultError):
        rules_from_json(payload)


def test_fault_rules_from_json_accept_the_three_shapes() -> None:
    rule = {"path": "/v1", "status": 500}
    assert len(rules_from_json(rule)) == 1
    assert len(rules_from_json([rule, rule])) == 2
    assert len(rules_from_json({"faults": [rule]})) == 1


def test_config_updates_are_checked() -> None:
    config = SandboxConfig()
    updated = config.updated({"drop_rate": 0.25, "seed": 3, "outcomes": {"+14155550100": "failed"}})
    assert (updated.drop_rate, updated.seed, updated.outcome_for("+14155550100")) == (0.25, 3, "failed")
    assert updated.outcome_for("+14155550101") == "delivered"
    for bad in (
        {"drop_rate": 1.5},
        {"drop_rate": True},
        {"twilio_rate": 0},
        {"outcomes": {"+1415": "lost"}},
        {"openphone_numbers": {"+14155550100": "XX1"}},
        {"api_url": "ftp://x"},
        {"nope": 1},
    ):
        with pytest.raises(ConfigError):
            config.updated(bad)


@pytest.mark.parametrize(
    ("body", "expected"),
    [("", 1), ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("é" * 70, 1), ("😀" * 35, 1), ("😀" * 36, 2)],
)
def test_segments_follow_gsm7_and_ucs2_limits(body: str, expected: int) -> None:
    assert segments(body) == expected


def test_phone_arg_restores_a_plus_decoded_as_a_space() -> None:
    assert phone_arg(" 14155550123") == "+14155550123"
    assert phone_arg("+14155550123") == "+14155550123"
    assert phone_arg(None) is None


def test_rebase_swaps_twilio_hosts_only() -> None:
    base = "http://127.0.0.1:3001"
    assert rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=2", base) == (
        "http://127.0.0.1:3001/2010-04-01/Accounts/AC1/Messages.json?PageSize=2"
    )
    assert rebase("https://api.edge.us1.twilio.com/x", base + "/") == "http://127.0.0.1:3001/x"
    assert rebase("https://example.com/x", base) == "https://example.com/x"


def test_twilio_client_with_a_base_url_rewrites_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a client pointed at a base URL, and a transport that records instead of sending
    import requests

    seen: list[str] = []

    def record(session: requests.Session, prepared: requests.PreparedRequest, **kwargs: object) -> None:
        seen.append(str(prepared.url))
        raise requests.ConnectionError("recorded, not sent")

    monkeypatch.setattr(requests.Session, "send", record)
    client = twilio_client("AC" + "0" * 32, "token", base_url="http://127.0.0.1:3001", timeout=3)

    # When the SDK sends
    with pytest.raises(requests.ConnectionError):
        client.messages.create(to="+14155550123", from_="+14155559876", body="x")

    # Then its api.twilio.com URL went to the base URL instead, with the client's timeout
    assert seen == [f"http://127.0.0.1:3001/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"]
    assert client.http_client.timeout == 3
    # And without a base URL the stock client is used
    assert type(twilio_client("AC" + "0" * 32, "token").http_client).__name__ == "TwilioHttpClient"


def test_the_sandbox_owns_two_numbers_at_both_providers() -> None:
    from switchboard_ops.sandbox import SANDBOX_NUMBER_A, SANDBOX_NUMBER_B

    config = SandboxConfig()

    assert config.owner_of(SANDBOX_NUMBER_B, prefer="twilio") == "twilio"
    assert config.owner_of(SANDBOX_NUMBER_B, prefer="openphone") == "openphone"
    assert config.owner_of(f"whatsapp:{SANDBOX_NUMBER_A}", prefer="twilio") == "twilio"
    assert config.owner_of("+14155559876", prefer="twilio") == "openphone"  # OpenPhone's number only
    assert config.owner_of("+14155550123", prefer="twilio") is None  # a customer's phone
    assert config.describe()["twilio_numbers"] == [SANDBOX_NUMBER_A, SANDBOX_NUMBER_B]
    assert config.updated({"twilio_numbers": []}).owner_of(SANDBOX_NUMBER_A, prefer="twilio") == "openphone"
    with pytest.raises(ConfigError):
        config.updated({"twilio_numbers": ["415"]})
