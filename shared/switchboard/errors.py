"""Typed domain errors. The HTTP layer maps them to status codes in one place (switchboard.http_api)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


def first_problem(invalid: ValidationError, where: str = "") -> str:
    """What a caller reads of a model's refusal: "field.path: message" for its first error (`where` when
    the error belongs to no field, as a model validator's), without pydantic's "Value error, " prefix."""
    first = invalid.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or where
    message = first["msg"].removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


class SwitchboardError(Exception):
    """Base of every error Switchboard raises on purpose."""


class WebhookRejected(SwitchboardError):
    """A webhook we refuse: the caller gets `status_code` with a JSON error, and nothing is stored."""

    status_code = 400
    error = "bad_request"
    metric = "BadRequests"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class MalformedPayload(WebhookRejected):
    error = "malformed_payload"


class SignatureInvalid(WebhookRejected):
    status_code = 401
    error = "invalid_signature"
    metric = "SignatureRejected"


class NotConfigured(SignatureInvalid):
    """The route's secret is missing: fail closed, exactly like a bad signature."""

    error = "route_not_configured"


class UnknownRoute(WebhookRejected):
    status_code = 404
    error = "unknown_provider"


class PayloadTooLarge(WebhookRejected):
    status_code = 413
    error = "payload_too_large"


class UnsupportedContentType(WebhookRejected):
    status_code = 415
    error = "unsupported_content_type"


class DependencyUnavailable(SwitchboardError):
    """AWS (DynamoDB, SQS, Secrets Manager) failed: retryable, so webhooks get a 5xx and retry."""


class StoreUnavailable(DependencyUnavailable):
    pass


class EnqueueFailed(DependencyUnavailable):
    pass


class SecretsUnavailable(DependencyUnavailable):
    pass


class JobMissing(SwitchboardError):
    """The job points at no stored record: it can never succeed."""


class JobAlreadyDone(SwitchboardError):
    """The record is PROCESSED: a redelivered or re-enqueued job has nothing left to do."""


class JobBusy(SwitchboardError):
    """Another worker holds a live lease on it: try again later."""


class SendFinished(SwitchboardError):
    """The send already reached a final state (sent, rejected, suppressed, flagged): nothing to do."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


class SendInterrupted(SwitchboardError):
    """Found SENDING: an earlier attempt died mid-send."""


class ReplyNotPossible(SwitchboardError):
    """A stored message cannot be answered in its own thread (no thread id, an unsupported channel...):
    permanent, so the caller records it on the draft instead of retrying."""


class ReminderNotCancellable(SwitchboardError):
    """The reminder is not scheduled any more (sent, delivered, failed or already cancelled), or unknown."""

    def __init__(self, state: str | None) -> None:
        super().__init__(state or "not_found")
        self.state = state


class DraftNotFound(SwitchboardError):
    """No draft has this id (the pk of the message it answers)."""


class DraftTransitionRefused(SwitchboardError):
    """The draft's state does not allow the move (approving a sent or rejected draft)."""

    def __init__(self, draft_id: str, state: str, wanted: str) -> None:
        super().__init__(f"draft {draft_id} is {state}: it cannot be {wanted}")
        self.state = state
