"""The jobs both workers drain: a realistic day of Twilio traffic, parsed by the real Twilio parsers.

Bodies come from events/payloads/twilio_inbound_sms.json and twilio_status_delivered.json with the sid,
the sender and the text (or the status) changed, and are parsed by switchboard.providers.twilio exactly
as ingest parses them, so the stored records are the ones production stores. The mix (per 100 jobs):
replies the rules classifier calls positive (22), negative (14), neutral (18) or out-of-office (4);
consent keywords STOP (4), START (1), HELP (1); and status callbacks of outbound messages (36): sent,
delivered, some undelivered, some late "sent" after "delivered" (a merge that must change nothing).

A few replies arrive late (their occurred_at is older than the contact's latest message), as SQS does
not keep order: the roll-up then counts them without moving "last message" back.

Deterministic for a seed; the same list is stored for both workers.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bench.ingest.webhooks import new_sid

OUR_NUMBER = "+14155559876"
START_AT = 1_750_000_000.0  # a fixed epoch: the same occurred_at values on both sides and every run
LATE_SHARE = 0.05

REPLIES: dict[str, tuple[str, ...]] = {
    "positive": (
        "Yes, Tuesday at 3pm works for me",
        "Sounds great, what's the pricing?",
        "Interested - send me details",
        "Can we schedule a quick call tomorrow?",
        "Sure, tell me more",
        "Let's talk next week, Monday works",
    ),
    "negative": (
        "Not interested, thanks",
        "No thanks, we're all set",
        "Wrong number",
        "Please remove me from your list",
        "We already have a provider, not looking",
    ),
    "neutral": ("Who is this?", "ok", "Got it", "?", "Hmm, which company?", "Received"),
    "out_of_office": (
        "I'm out of the office until next week",
        "Auto-reply: currently away with limited access",
    ),
}
CONSENT: dict[str, tuple[str, str]] = {  # kind -> (Body, OptOutType)
    "stop": ("STOP", "STOP"),
    "start": ("START", "START"),
    "help": ("HELP", "HELP"),
}
WEIGHTS: dict[str, int] = {
    "positive": 22,
    "negative": 14,
    "neutral": 18,
    "out_of_office": 4,
    "stop": 4,
    "start": 1,
    "help": 1,
    "status": 36,
}
KINDS = tuple(WEIGHTS)


@dataclass(frozen=True)
class SeedEvent:
    kind: str  # one of KINDS
    event: Any  # switchboard.models.Message | StatusUpdate
    received_at: float


@cache
def _payload(name: str) -> dict[str, str]:
    from switchboard_ops.project import load_event

    return dict(parse_qsl(load_event(f"payloads/{name}")["body"], keep_blank_values=True))


def _parse(route: str, params: dict[str, str], received_at: float) -> Any:
    from switchboard.providers import ROUTES
    from switchboard.webhook_request import FORM, WebhookRequest

    request = WebhookRequest(
        route=route,
        url=f"https://bench.invalid/webhooks/{route}",
        body=urlencode(params).encode(),
        headers={"content-type": FORM},
    )
    return ROUTES[route].parse(request, received_at)


def inbound(sender: str, body: str, received_at: float, opt_out_type: str | None = None) -> Any:
    sid = new_sid()
    params = _payload("twilio_inbound_sms") | {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
    }
    if opt_out_type:
        params["OptOutType"] = opt_out_type
    return _parse("twilio", params, received_at)


def status_callback(sid: str, recipient: str, status: str, received_at: float, error_code: str = "") -> Any:
    params = _payload("twilio_status_delivered") | {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": recipient,
        "From": OUR_NUMBER,
    }
    if error_code:
        params["ErrorCode"] = error_code
    return _parse("twilio/status", params, received_at)


def contacts(count: int) -> list[str]:
    return [f"+1415555{1000 + index:04d}" for index in range(count)]


def generate(
    jobs: int, *, seed: int = 7, start_at: float = START_AT, contact_count: int = 0
) -> list[SeedEvent]:
    """`jobs` stored events in the order they are enqueued; about five jobs per contact by default."""
    rng = random.Random(seed)
    people = contacts(contact_count or max(2, jobs // 5))
    kinds = rng.choices(KINDS, weights=[WEIGHTS[kind] for kind in KINDS], k=jobs)
    outbound: list[tuple[str, str, list[str]]] = []  # (sid, recipient, statuses to come)
    seeds: list[SeedEvent] = []
    for index, kind in enumerate(kinds):
        at = start_at + index
        contact = rng.choice(people)
        if kind == "status":
            seeds.append(SeedEvent(kind, _next_status(rng, outbound, contact, at), at))
            continue
        occurred = at - 3600 if rng.random() < LATE_SHARE else at
        if kind in CONSENT:
            body, opt_out_type = CONSENT[kind]
            event = inbound(contact, body, occurred, opt_out_type)
        else:
            event = inbound(contact, rng.choice(REPLIES[kind]), occurred)
        seeds.append(SeedEvent(kind, event, occurred))
    return seeds


# What each outbound message's callbacks look like, in arrival order: the late "sent" after "delivered"
# is processed but must not move the delivery status back.
_SEQUENCES = ((("sent", "delivered"), 70), (("delivered", "sent"), 20), (("sent", "undelivered"), 10))


def _next_status(
    rng: random.Random, outbound: list[tuple[str, str, list[str]]], contact: str, at: float
) -> Any:
    """The next callback of a message we sent: a pending one's next status, or a new message's first."""
    if outbound and rng.random() < 0.6:
        index = rng.randrange(len(outbound))
        sid, recipient, pending = outbound[index]
    else:
        sequence = rng.choices([s for s, _ in _SEQUENCES], weights=[w for _, w in _SEQUENCES])[0]
        sid, recipient, pending = new_sid(), contact, list(sequence)
        outbound.append((sid, recipient, pending))
        index = len(outbound) - 1
    status = pending.pop(0)
    if not pending:
        outbound.pop(index)
    return status_callback(sid, recipient, status, at, "30003" if status == "undelivered" else "")


def composition(seeds: list[SeedEvent]) -> dict[str, int]:
    counts = Counter(seed.kind for seed in seeds)
    return {kind: counts.get(kind, 0) for kind in KINDS}
