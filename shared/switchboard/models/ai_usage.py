"""One model call as telemetry records it, and the price table its cost comes from.

Prices are USD per million tokens, on demand, each with the date it was checked and where
(outbound-apis.md section 9). LLM_PRICES (JSON, same shape) adds or overrides entries per deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

FEATURES = ("sentiment.classify", "draft.strategy", "draft.generate", "reminder.text")
OUTCOMES = ("ok", "unavailable", "timeout", "rejected", "malformed")


class ModelPrice(BaseModel):
    model_config = ConfigDict(frozen=True)

    input: float = Field(ge=0, description="USD per 1M input tokens")
    output: float = Field(ge=0, description="USD per 1M output tokens")
    verified_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    source: str = ""


_AWS_COPY = "AWS pricing copy in convo-lang/convo-lang bedrock-pricing.md"
_OPENAI_COPY = "hex.pm openai_responses pricing.ex citing platform.openai.com/docs/pricing"
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "amazon.nova-micro-v1:0": ModelPrice(
        input=0.035, output=0.14, verified_at="2025-07-20", source=_AWS_COPY
    ),
    "amazon.nova-lite-v1:0": ModelPrice(input=0.06, output=0.24, verified_at="2025-07-20", source=_AWS_COPY),
    "anthropic.claude-3-haiku-20240307-v1:0": ModelPrice(
        input=0.25, output=1.25, verified_at="2025-07-20", source=_AWS_COPY
    ),
    "anthropic.claude-3-5-haiku-20241022-v1:0": ModelPrice(
        input=0.80, output=4.00, verified_at="2025-07-20", source=_AWS_COPY
    ),
    "gpt-4o-mini": ModelPrice(input=0.15, output=0.60, verified_at="2025-06-03", source=_OPENAI_COPY),
    # Conflicting copies (0.20/0.80 elsewhere): the higher, documented one until checked on the live page.
    "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60, verified_at="2025-06-03", source=_OPENAI_COPY),
}
# Cross-region inference profiles ("us.amazon.nova-micro-v1:0") cost what the model costs.
_PROFILE_PREFIX = re.compile(r"^(?:us|eu|apac|us-gov|global)\.")


def price_of(prices: dict[str, ModelPrice], model: str) -> ModelPrice | None:
    return prices.get(model) or prices.get(_PROFILE_PREFIX.sub("", model))


def cost_usd(prices: dict[str, ModelPrice], model: str, input_tokens: int, output_tokens: int) -> float:
    """0.0 for a model missing from the table (the record says `priced: false`)."""
    price = price_of(prices, model)
    if price is None:
        return 0.0
    return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


@dataclass(frozen=True)
class AiCall:
    """One model call: what it was for, what it cost and how it ended (the job it served is the record's)."""

    feature: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: int
    cost_usd: float
    priced: bool
    outcome: str  # one of OUTCOMES
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome != "ok"


__all__ = ["DEFAULT_PRICES", "FEATURES", "OUTCOMES", "AiCall", "ModelPrice", "cost_usd", "price_of"]
