"""What every route shares: config, store, delivery thread, rate limits, faults, credentials, and the
two pieces of behaviour both providers have: inbound messages and the outbound status lifecycle."""

from __future__ import annotations

import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from switchboard_ops.sandbox.config import (
    DEFAULT_LLM_API_KEY,
    DEFAULT_OPENPHONE_API_KEY,
    DEFAULT_TWILIO_ACCOUNT_SID,
    SandboxConfig,
)
from switchboard_ops.sandbox.delivery import DeliveryWorker, Outcome, Webhook
from switchboard_ops.sandbox.faults import FaultPlan
from switchboard_ops.sandbox.ratelimit import RateLimits
from switchboard_ops.sandbox.store import MediaItem, Store, StoredMessage
from switchboard_ops.sandbox.wire import HttpError

# Whole-body, case-insensitive keywords (providers.md 1.7 / 8): carriers and Twilio act on these.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})

REPLY_PROVIDERS = ("ghl", "smartlead", "instantly", "unipile")  # the reply APIs (reply_apis.py)
Step = tuple[str, str | None]  # (status, error code)


def bad_request(detail: str) -> HttpError:
    return HttpError(400, {"error": "bad_request", "detail": detail})


class Context:
    def __init__(
        self,
        config: SandboxConfig,
        secrets: Mapping[str, Mapping[str, str]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.Lock()
        self.initial_config = config
        self.config = config
        self.clock = clock
        self.secrets = {name: dict(value) for name, value in secrets.items()}  # signs calendar webhooks
        twilio = dict(secrets.get("twilio") or {})
        openphone = dict(secrets.get("openphone") or {})
        self.twilio_account_sid = twilio.get("account_sid") or DEFAULT_TWILIO_ACCOUNT_SID
        self.twilio_auth_token = twilio["auth_token"]
        self.openphone_api_key = openphone.get("api_key") or DEFAULT_OPENPHONE_API_KEY
        self.openphone_signing_key = openphone["signing_key"]
        self.llm_api_key = dict(secrets.get("llm") or {}).get("api_key") or DEFAULT_LLM_API_KEY
        self.reply_secrets = {name: dict(secrets.get(name) or {}) for name in REPLY_PROVIDERS}
        self.store = Store()
        self.delivery = DeliveryWorker(
            self.store, timeout=config.webhook_timeout, retry_delay=config.retry_delay
        )
        self.limits = RateLimits({"twilio": config.twilio_rate, "openphone": config.openphone_rate})
        self.faults = FaultPlan()
        self.stopping = threading.Event()
        self._inbound_rng = random.Random()
        self._callback_rng = random.Random()
        self._seed(config.seed)

    # --- configuration -------------------------------------------------------------------------

    def configure(self, changes: Mapping[str, Any]) -> SandboxConfig:
        with self.lock:
            self.config = self.config.updated(changes)
            config = self.config
        self._apply(config, reseed="seed" in changes)
        return config

    def _apply(self, config: SandboxConfig, *, reseed: bool) -> None:
        self.limits.configure({"twilio": config.twilio_rate, "openphone": config.openphone_rate})
        self.delivery.timeout = config.webhook_timeout
        self.delivery.retry_delay = config.retry_delay
        if reseed:
            self._seed(config.seed)

    def _seed(self, seed: int | None) -> None:
        with self.lock:
            self._inbound_rng.seed(seed)
            self._callback_rng.seed(None if seed is None else seed + 1)

    def reset(self) -> None:
        """Back to the state just after start: no messages, opt-outs, faults or counts; initial config."""
        self.delivery.clear()
        self.store.clear()
        self.faults.clear()
        with self.lock:
            self.config = self.initial_config
        self._apply(self.initial_config, reseed=True)
        self.limits.reset()

    # --- helpers for the provider modules --------------------------------------------------------

    @staticmethod
    def new_id(prefix: str) -> str:
        return prefix + uuid.uuid4().hex

    def now(self) -> float:
        return self.clock()

    def _drops(self, rng: random.Random, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self.lock:
            return rng.random() < rate

    def send_callback(self, webhook: Webhook) -> Outcome | None:
        """A status callback / delivery webhook, unless callback_drop_rate drops it."""
        if self._drops(self._callback_rng, self.config.callback_drop_rate):
            self.store.count("dropped")
            return None
        return self.delivery.post(webhook)

    def run_lifecycle(
        self,
        provider: str,
        message_id: str,
        steps: list[Step],
        webhook_for: Callable[[StoredMessage], Webhook | None],
    ) -> None:
        """Move an outbound message through `steps`, status_delay apart, on the delivery thread; each
        change may produce a callback (held and sent last-first when out_of_order is set). Once it is
        `delivered`, each recipient the sandbox owns receives it (`loop_back`)."""
        config = self.config
        held: list[Webhook] = []

        def step(index: int) -> None:
            status, error_code = steps[index]
            now = self.now()
            current = self.store.get(provider, message_id)
            if current is None:
                return  # reset meanwhile
            message = self.store.update(
                provider,
                message_id,
                status=status,
                error_code=error_code,
                updated_at=now,
                sent_at=current.sent_at if current.sent_at is not None else now,
            )
            webhook = webhook_for(message) if message is not None else None
            if webhook is not None:
                if config.out_of_order:
                    held.append(webhook)
                else:
                    self.send_callback(webhook)
            if message is not None and status == "delivered":
                self.loop_back(message)
            if index + 1 < len(steps):
                self.delivery.schedule(config.status_delay, lambda: step(index + 1))
            else:
                for late in reversed(held):
                    self.send_callback(late)

        self.delivery.schedule(config.status_delay, lambda: step(0))

    def loop_back(self, message: StoredMessage) -> None:
        """A delivered outbound message whose recipient is a number the sandbox owns (config
        twilio_numbers / openphone_numbers) arrives there: that provider stores it as an inbound message
        and delivers its webhook to Switchboard, subject to drop_rate - the loop the health check's
        canary closes. Runs on the delivery thread, so it never waits for the webhook's answer."""
        config = self.config
        for recipient in message.recipients:
            owner = config.owner_of(recipient, prefer=message.provider)
            if owner is None:
                continue
            sender, to = message.sender, recipient
            if owner != message.provider:  # across providers a number is just E.164
                sender, to = _bare(sender), _bare(to)
            receive = _inbound_function(owner)
            try:
                _, webhook = receive(self, sender, to, message.body, message.media, self.now())
            except HttpError as exc:  # e.g. an MMS whose media the other provider refuses: say so, go on
                print(f"sandbox: {message.id} not looped back to {to}: {exc.payload}", file=sys.stderr)
                continue
            self.store.count("received")
            self.store.count("looped_back")
            self._deliver_inbound(webhook)

    def _deliver_inbound(self, webhook: Webhook) -> Outcome | None:
        """Post an inbound webhook, unless drop_rate drops it (None)."""
        if self._drops(self._inbound_rng, self.config.drop_rate):
            self.store.count("dropped")
            return None
        return self.delivery.post(webhook)

    def apply_keywords(self, business: str, customer: str, body: str) -> None:
        keyword = body.strip().upper()
        if keyword in OPT_OUT_KEYWORDS:
            self.store.set_opt_out(business, customer, True)
        elif keyword in OPT_IN_KEYWORDS:
            self.store.set_opt_out(business, customer, False)

    # --- inbound -------------------------------------------------------------------------------

    def receive(
        self,
        provider: str,
        payload: Mapping[str, Any],
        inbound: Callable[
            [Context, str, str, str, tuple[MediaItem, ...], float], tuple[StoredMessage, Webhook]
        ],
    ) -> dict[str, Any]:
        """Store an inbound message and deliver its webhook (unless drop_rate drops it); with `wait`
        (the default) the answer says whether Switchboard's API took it (2xx)."""
        sender, recipient = payload.get("from"), payload.get("to")
        if not isinstance(sender, str) or not isinstance(recipient, str):
            raise bad_request("'from' and 'to' must be phone number strings")
        body = payload.get("body", "")
        if not isinstance(body, str):
            raise bad_request("'body' must be a string")
        media = media_items(payload.get("media"))
        if not body and not media:
            raise bad_request("an inbound message needs a body or media")
        at = parse_instant(payload["date"], "date") if payload.get("date") is not None else self.now()
        wait = payload.get("wait", True)
        if not isinstance(wait, bool):
            raise bad_request("'wait' must be true or false")
        message, webhook = inbound(self, sender.strip(), recipient.strip(), body, media, at)
        self.store.count("received")
        result: dict[str, Any] = {"provider": provider, "sid" if provider == "twilio" else "id": message.id}
        outcome = self._deliver_inbound(webhook)
        if outcome is None:
            return {**result, "dropped": True, "delivered": False, "webhook_status": None}
        if not wait:
            return {**result, "dropped": False, "delivered": None, "webhook_status": None}
        config = self.config
        outcome.done.wait(2 * config.webhook_timeout + config.retry_delay + 5.0)
        return {**result, "dropped": False, "delivered": outcome.ok, "webhook_status": outcome.status}


InboundFunction = Callable[
    ["Context", str, str, str, tuple[MediaItem, ...], float], tuple[StoredMessage, Webhook]
]


def _inbound_function(provider: str) -> InboundFunction:
    """The provider module's `inbound` (imported here: those modules import this one)."""
    from switchboard_ops.sandbox import openphone_api, twilio_api

    function: InboundFunction = (twilio_api if provider == "twilio" else openphone_api).inbound
    return function


def _bare(number: str) -> str:
    return number[len("whatsapp:") :] if number.lower().startswith("whatsapp:") else number


def media_items(value: Any) -> tuple[MediaItem, ...]:
    """`media`: URL strings or {"url", "content_type" | "type"} objects."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 10:
        raise bad_request("'media' must be a list of at most 10 URLs or {url, content_type} objects")
    items = []
    for item in value:
        url: Any
        content_type: Any
        if isinstance(item, str):
            url, content_type = item, None
        elif isinstance(item, dict):
            url, content_type = item.get("url"), item.get("content_type") or item.get("type")
        else:
            url, content_type = None, None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise bad_request("every media item needs an http(s) url")
        if content_type is not None and not isinstance(content_type, str):
            raise bad_request("a media content_type must be a string")
        items.append(MediaItem(url, content_type or _guess_type(url)))
    return tuple(items)


def _guess_type(url: str) -> str:
    import mimetypes

    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return guessed or "image/jpeg"


def parse_instant(value: Any, name: str) -> float:
    """ISO-8601 (a trailing Z, or no zone = UTC) or Unix seconds, to Unix seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    raise bad_request(f"'{name}' must be an ISO-8601 date-time or Unix seconds")
