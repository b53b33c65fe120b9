"""AWS failures as domain errors, in one place: a service's error answer (ClientError) and a transport
failure (connection refused or closed, connect or read timeout) both mean "AWS is unavailable", so
both become the same retryable domain error (the HTTP layer answers 503, workers retry)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from switchboard.errors import DependencyUnavailable

# Connection errors (EndpointConnectionError, ConnectTimeoutError, SSLError, ProxyConnectionError) and
# errors on an open connection (ReadTimeoutError, ConnectionClosedError). Other BotoCoreErrors, such as
# ParamValidationError, are our own bugs: they stay unexpected (500, logged with their trace).
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (BotocoreConnectionError, HTTPClientError)
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, *TRANSPORT_ERRORS)


def error_code(exc: Exception) -> str:
    """The service's error code, or the transport error's class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code"))
    return type(exc).__name__


def is_condition_failure(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) == "ConditionalCheckFailedException"


@contextmanager
def translated(error: type[DependencyUnavailable], action: str) -> Iterator[None]:
    """Raise `error("<action> failed: <code>")` for any AWS failure inside the block."""
    try:
        yield
    except AWS_ERRORS as exc:
        raise error(f"{action} failed: {error_code(exc)}") from exc
