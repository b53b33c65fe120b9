"""The sandbox's knobs, settable at construction, from the command line and by `POST /sandbox/config`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard_ops.sandbox.wire import is_e164

# Client-side credentials the sandbox accepts when the secrets given to it hold none of their own.
DEFAULT_TWILIO_ACCOUNT_SID = "AC5a4db0c1e2f3a4b5c6d7e8f9a0b1c2d3"
DEFAULT_OPENPHONE_API_KEY = "local-openphone-api-key"
# The business number of events/payloads/openphone_message_*.json, and its phoneNumberId and user.
DEFAULT_OPENPHONE_NUMBERS = {"+14155559876": "PNtoDbDhuz"}
DEFAULT_OPENPHONE_USER_ID = "USu5AsEHuQ"
# Two numbers the sandbox owns at both providers (555-01XX: reserved for fiction). A message sent TO a
# number the sandbox owns is delivered to it: it comes back as that number's inbound message and webhook.
# The local stack's health check sends its canary from the first to the second.
SANDBOX_NUMBER_A = "+14155550100"
SANDBOX_NUMBER_B = "+14155550199"
DEFAULT_TWILIO_NUMBERS = (SANDBOX_NUMBER_A, SANDBOX_NUMBER_B)
SANDBOX_OPENPHONE_NUMBERS = {SANDBOX_NUMBER_A: "PNsandbox0A", SANDBOX_NUMBER_B: "PNsandbox0B"}

OUTCOMES = ("delivered", "undelivered", "failed")
LLM_ANSWERS = ("ok", "not_json", "off_schema", "refusal")  # how the LLM routes shape a structured answer
DEFAULT_LLM_API_KEY = "local-llm-api-key"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SandboxConfig:
    api_url: str = "http://127.0.0.1:3000"  # Switchboard's API: inbound webhooks go to {api_url}/webhooks/..
    drop_rate: float = 0.0  # share of inbound webhooks dropped (the message is still listed)
    callback_drop_rate: float = 0.0  # share of status callbacks / message.delivered webhooks dropped
    seed: int | None = None  # seeds both drop decisions, for reproducible runs
    twilio_rate: float = 100.0  # requests a second before 429 (Twilio publishes no fixed number)
    openphone_rate: float = 10.0  # "Each API key may make up to 10 requests per second"
    outcomes: Mapping[str, str] = field(default_factory=dict)  # recipient -> delivered|undelivered|failed
    out_of_order: bool = False  # deliver the final status callback before "sent"
    status_delay: float = 0.02  # seconds between status changes (queued -> sent -> delivered)
    openphone_numbers: Mapping[str, str] = field(
        default_factory=lambda: {**DEFAULT_OPENPHONE_NUMBERS, **SANDBOX_OPENPHONE_NUMBERS}
    )
    # Numbers of the sandbox's Twilio account: a send to one of them loops back as its inbound message.
    # (Twilio sends FROM any number are accepted, as before; only the loop-back looks at this list.)
    twilio_numbers: tuple[str, ...] = DEFAULT_TWILIO_NUMBERS
    openphone_user_id: str = DEFAULT_OPENPHONE_USER_ID
    webhook_timeout: float = 5.0
    retry_delay: float = 0.5  # before the one retry of a webhook that failed
    llm_latency: float = 0.0  # seconds before every LLM answer (Bedrock and chat completions)
    llm_answer: str = "ok"  # one of LLM_ANSWERS: malformed answers on demand

    def describe(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["outcomes"] = dict(self.outcomes)
        values["openphone_numbers"] = dict(self.openphone_numbers)
        values["twilio_numbers"] = list(self.twilio_numbers)
        return values

    def owner_of(self, number: str, prefer: str) -> str | None:
        """Which provider's account owns `number` ("whatsapp:" ignored): `prefer` when both do, else
        the one that does, else None (a customer's phone, outside the sandbox)."""
        bare = number[len("whatsapp:") :] if number.lower().startswith("whatsapp:") else number
        owners = [
            provider
            for provider, owned in (("twilio", self.twilio_numbers), ("openphone", self.openphone_numbers))
            if bare in owned
        ]
        return prefer if prefer in owners else (owners[0] if owners else None)

    def outcome_for(self, recipient: str) -> str:
        return self.outcomes.get(recipient, "delivered")

    def phone_number_id(self, number: str) -> str | None:
        return self.openphone_numbers.get(number)

    def number_for_id(self, phone_number_id: str) -> str | None:
        for number, pn_id in self.openphone_numbers.items():
            if pn_id == phone_number_id:
                return number
        return None

    def updated(self, changes: Mapping[str, Any]) -> SandboxConfig:
        """A copy with `changes` applied, each checked; anything unknown or out of range is a ConfigError."""
        known = {item.name for item in dataclasses.fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, value in changes.items():
            values[name] = _CHECKS[name](name, value)
        return dataclasses.replace(self, **values)


def _rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a number from 0.0 to 1.0")
    return float(value)


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{name} must be a positive number")
    return float(value)


def _non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value > 600:
        raise ConfigError(f"{name} must be a number of seconds from 0 to 600")
    return float(value)


def _seed(name: str, value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{name} must be a whole number or null")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false")
    return value


def _url(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL")
    return value.rstrip("/")


def _outcomes(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be an object of phone number -> outcome")
    for number, outcome in value.items():
        if not is_e164(number) or outcome not in OUTCOMES:
            raise ConfigError(f"{name} maps E.164 numbers to one of {', '.join(OUTCOMES)}")
    return dict(value)


def _numbers(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{name} must be a non-empty object of E.164 number -> PN id")
    for number, pn_id in value.items():
        if not is_e164(number) or not isinstance(pn_id, str) or not pn_id.startswith("PN"):
            raise ConfigError(f"{name} maps E.164 numbers to phoneNumberIds starting with PN")
    return dict(value)


def _twilio_numbers(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(is_e164(number) for number in value):
        raise ConfigError(f"{name} must be a list of E.164 numbers")
    return tuple(value)


def _llm_answer(name: str, value: Any) -> str:
    if value not in LLM_ANSWERS:
        raise ConfigError(f"{name} must be one of {', '.join(LLM_ANSWERS)}")
    return str(value)


def _user(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("US"):
        raise ConfigError(f"{name} must be a user id starting with US")
    return value


_CHECKS = {
    "api_url": _url,
    "drop_rate": _rate,
    "callback_drop_rate": _rate,
    "seed": _seed,
    "twilio_rate": _positive,
    "openphone_rate": _positive,
    "outcomes": _outcomes,
    "out_of_order": _flag,
    "status_delay": _non_negative,
    "openphone_numbers": _numbers,
    "twilio_numbers": _twilio_numbers,
    "openphone_user_id": _user,
    "webhook_timeout": _positive,
    "retry_delay": _non_negative,
    "llm_latency": _non_negative,
    "llm_answer": _llm_answer,
}
