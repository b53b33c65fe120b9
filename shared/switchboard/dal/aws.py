"""boto3 clients created lazily, once per container; AWS_ENDPOINT_URL points them at moto locally."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from switchboard.container import once_per_container

# Webhook callers wait at most 15 s (Twilio); fail fast and let the provider retry instead.
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})


# once_per_container, so the one fixture that forgets the container forgets its clients too (a new moto)
@once_per_container
def client(service: str) -> Any:
    import boto3

    return boto3.client(service, config=_CLIENT_CONFIG)


class InjectedClient:
    """A boto3 client attribute: the one given to the constructor (tests, benches) or, on first use,
    the container's shared client. `sqs = InjectedClient("sqs")` reads and fills `self._sqs`."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.private = f"_{service}"

    def __set_name__(self, owner: type, name: str) -> None:
        self.private = f"_{name}"

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = getattr(instance, self.private, None)
        if value is None:
            value = client(self.service)
            setattr(instance, self.private, value)
        return value
