"""An HTTP classifier: POSTs the reply text to a configured endpoint (an LLM behind your own API).

Off by default (CLASSIFIER_URL empty). Contract: request {"text": "..."}; response {"intent": one of
the Intent values}. A failure raises, so the job retries with backoff like any transient error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.models.classification import Classification, Intent


class ClassifierUnavailable(Exception):
    pass


def _post_with_requests(url: str, payload: dict[str, Any], headers: dict[str, str], timeout: float) -> Any:
    import requests  # lazy: only deployments that turn the HTTP classifier on pay for it

    response = requests.post(url, json=payload, headers=headers, timeout=timeout)
    response.raise_for_status()
    return response.json()


class HttpClassifier:
    name = "http"

    def __init__(
        self,
        url: str,
        *,
        api_key: str = "",
        timeout_seconds: float = 10.0,
        post: Callable[[str, dict[str, Any], dict[str, str], float], Any] = _post_with_requests,
    ) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout_seconds = timeout_seconds
        self._post = post

    def classify(self, text: str) -> Classification:
        try:
            answer = self._post(self.url, {"text": text}, self.headers, self.timeout_seconds)
            intent = Intent(answer["intent"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ClassifierUnavailable(f"classifier answered without a known intent: {exc}") from exc
        except Exception as exc:
            raise ClassifierUnavailable(f"classifier call failed: {type(exc).__name__}") from exc
        return Classification.of(intent, self.name)
