"""Every model call goes through here: the client's answer or typed failure, timed and costed as an AiCall
(the telemetry the worker commits with the job and counts in metrics)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from switchboard.models.ai_usage import AiCall, ModelPrice, cost_usd, price_of
from switchboard.providers.llm import LlmAnswer, LlmClient, LlmError, LlmRequest


@dataclass(frozen=True)
class ModelResult:
    call: AiCall
    answer: LlmAnswer | None = None
    error: LlmError | None = None


class ModelCaller:
    def __init__(self, client: LlmClient, prices: dict[str, ModelPrice]) -> None:
        self.client = client
        self.prices = prices

    @property
    def model(self) -> str:
        return self.client.model

    def call(self, feature: str, request: LlmRequest) -> ModelResult:
        started = time.monotonic()
        try:
            answer = self.client.complete(request)
        except LlmError as error:
            elapsed = int((time.monotonic() - started) * 1000)
            return ModelResult(
                self._record(
                    feature, error.input_tokens, error.output_tokens, elapsed, error.outcome, str(error)
                ),
                error=error,
            )
        return ModelResult(
            self._record(feature, answer.input_tokens, answer.output_tokens, answer.latency_ms, "ok", ""),
            answer=answer,
        )

    def _record(
        self, feature: str, input_tokens: int, output_tokens: int, latency_ms: int, outcome: str, error: str
    ) -> AiCall:
        model = self.client.model
        return AiCall(
            feature=feature,
            provider=self.client.provider,
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=latency_ms,
            cost_usd=cost_usd(self.prices, model, input_tokens, output_tokens),
            priced=price_of(self.prices, model) is not None,
            outcome=outcome,
            error=error[:300],
        )


def publish_metrics(calls: list[AiCall]) -> None:
    """AICalls, AIFailures, AITokens and AICost (USD), each by feature."""
    from switchboard.observability import metric_by

    for call in calls:
        metric_by("AICalls", 1, feature=call.feature)
        if call.failed:
            metric_by("AIFailures", 1, feature=call.feature)
        metric_by("AITokens", call.input_tokens + call.output_tokens, feature=call.feature)
        metric_by("AICost", call.cost_usd, "None", feature=call.feature)
