"""The CLI's own AWS calls (clients, stack outputs, queue depths); the events table goes through
switchboard.dal. AWS errors become CliErrors here, so commands never print a botocore trace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from switchboard.errors import DependencyUnavailable
from switchboard_ops.cli.output import CliError
from switchboard_ops.local.environment import DUMMY_CREDENTIALS

UNREACHABLE = 2
_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})


def client(service: str, *, region: str, endpoint_url: str | None = None) -> Any:
    """A client for the target: with an endpoint (moto) it uses moto's dummy credentials, never yours."""
    import boto3

    if endpoint_url is None:
        return boto3.Session(region_name=region).client(service, config=_CONFIG)
    session = boto3.Session(
        region_name=region,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    return session.client(service, endpoint_url=endpoint_url, config=_CONFIG)


def default_region() -> str | None:
    import boto3

    return boto3.Session().region_name


@contextmanager
def translated(what: str) -> Iterator[None]:
    """botocore failures (no credentials, unreachable endpoint, AWS errors) as one-line CliErrors."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    try:
        yield
    except NoCredentialsError as exc:
        raise CliError(f"{what}: no AWS credentials ({exc})", error="no_credentials") from exc
    except EndpointConnectionError as exc:
        raise CliError(
            f"{what}: cannot reach {exc.kwargs.get('endpoint_url')} (is the stack running?)",
            error="unreachable",
            exit_code=UNREACHABLE,
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CliError(f"{what}: {error.get('Code')}: {error.get('Message')}", error="aws_error") from exc
    except BotoCoreError as exc:
        raise CliError(f"{what}: {exc}", error="aws_error") from exc
    except DependencyUnavailable as exc:  # switchboard.dal's translation of a ClientError
        raise CliError(f"{what}: {exc}", error="aws_error") from exc


def stack_outputs(stack_name: str, region: str) -> dict[str, str]:
    cloudformation = client("cloudformation", region=region)
    with translated(f"describe stack {stack_name}"):
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


@dataclass(frozen=True)
class QueueDepth:
    logical_id: str
    url: str
    arn: str
    visible: int
    in_flight: int
    delayed: int
    redrive_to_arn: str | None = None
    max_receive_count: int | None = None


_DEPTH_ATTRIBUTES = [
    "QueueArn",
    "RedrivePolicy",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


def queue_depths(sqs: Any, queues: dict[str, str]) -> list[QueueDepth]:
    """One GetQueueAttributes per queue: depth (visible / in flight / delayed) and its redrive target."""
    import json

    depths = []
    for logical_id, url in queues.items():
        with translated(f"read queue {logical_id}"):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_DEPTH_ATTRIBUTES)[
                "Attributes"
            ]
        redrive = json.loads(attributes["RedrivePolicy"]) if attributes.get("RedrivePolicy") else {}
        depths.append(
            QueueDepth(
                logical_id=logical_id,
                url=url,
                arn=attributes.get("QueueArn", ""),
                visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
                in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
                redrive_to_arn=redrive.get("deadLetterTargetArn"),
                max_receive_count=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
            )
        )
    return depths
