"""Which stack a command talks to: the running local stack (`.local/stack.json`) by default, or a
deployed one by CloudFormation stack name. Either way: resource names, region and boto3 clients."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from switchboard_ops.cli.output import CliError
from switchboard_ops.local.state import pid_alive, read_state, state_path

if TYPE_CHECKING:
    from switchboard.dal.address_keys import AddressKeys

NOT_RUNNING = 2


@dataclass(frozen=True)
class Target:
    name: str  # "local", or the CloudFormation stack name
    region: str
    table_name: str
    endpoint_url: str | None = None  # moto's, for the local stack
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    topics: dict[str, str] = field(default_factory=dict)  # logical id -> topic ARN
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> secret ARN / name
    parameters: dict[str, str] = field(default_factory=dict)  # logical id -> SSM parameter name
    api_url: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)  # a deployed stack's CloudFormation outputs
    state: dict[str, Any] = field(default_factory=dict)  # the local stack's .local/stack.json

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None

    def client(self, service: str) -> Any:
        from switchboard_ops.cli import aws

        return aws.client(service, region=self.region, endpoint_url=self.endpoint_url)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target (default: the running local stack)")
    group.add_argument("--stack-name", help="a deployed stack, by its CloudFormation stack name")
    group.add_argument(
        "--region", help="the deployed stack's region (default: AWS_REGION / AWS_DEFAULT_REGION)"
    )


def local_state() -> dict[str, Any]:
    """The running local stack's state file, or a clear exit-2 error."""
    state = read_state()
    if state is None:
        raise CliError(
            f"the local stack is not running (no {state_path()}); start it with `switchboard local up` "
            "(or `make dev`), or pass --stack-name for a deployed stack",
            error="not_running",
            exit_code=NOT_RUNNING,
        )
    if "pid" in state and not pid_alive(state["pid"]):
        raise CliError(
            f"the local stack is not running: {state_path()} is left over from pid {state['pid']}; "
            "start it again with `switchboard local up`",
            error="not_running",
            exit_code=NOT_RUNNING,
        )
    return state


def _local() -> Target:
    state = local_state()
    secrets = state.get("secret_arns") or {}
    return Target(
        name="local",
        region=state["region"],
        table_name=state["table_name"],
        endpoint_url=state["aws_endpoint_url"],
        queues=dict(state.get("queues") or {}),
        topics=dict(state.get("topics") or {}),
        secrets=dict(secrets),
        parameters=dict(state.get("parameters") or {}),
        api_url=state.get("api_url"),
        state=state,
    )


def _by_suffix(outputs: dict[str, str], suffix: str, keep: str) -> dict[str, str]:
    """`ProcessingQueueUrl` -> `ProcessingQueue`: outputs named <LogicalId><Url|Arn> map back to ids."""
    return {
        key[: len(key) - len(suffix)] + keep: value for key, value in outputs.items() if key.endswith(suffix)
    }


def _deployed(stack_name: str, region: str | None) -> Target:
    from switchboard_ops.cli import aws

    region = (
        region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or aws.default_region()
    )
    if not region:
        raise CliError("no region: pass --region or set AWS_REGION", error="no_region")
    outputs = aws.stack_outputs(stack_name, region)
    if "EventsTableName" not in outputs:
        raise CliError(f"stack {stack_name} has no EventsTableName output: is it a Switchboard stack?")
    return Target(
        name=stack_name,
        region=region,
        table_name=outputs["EventsTableName"],
        queues=_by_suffix(outputs, "QueueUrl", "Queue"),
        topics=_by_suffix(outputs, "TopicArn", "Topic"),
        secrets={
            **_by_suffix(outputs, "SecretsArn", "Secrets"),
            **_by_suffix(outputs, "SecretArn", "Secret"),
        },
        parameters=_by_suffix(outputs, "ParameterName", "Parameter"),
        api_url=outputs.get("ApiUrl"),
        outputs=outputs,
    )


def resolve(args: argparse.Namespace) -> Target:
    if getattr(args, "stack_name", None):
        return _deployed(args.stack_name, getattr(args, "region", None))
    if getattr(args, "region", None):
        raise CliError("--region applies to a deployed stack: pass --stack-name too", error="usage")
    return _local()


def address_keys(target: Target) -> AddressKeys:
    """The stack's AddressKeys (contact key from its WebhookSecrets), as its functions build them; no
    secret known: the local fallback key (dal/address_keys.py)."""
    from switchboard.dal.address_keys import AddressKeys
    from switchboard.dal.secrets import WebhookSecrets

    secret = target.secrets.get("WebhookSecrets")
    if not secret:
        return AddressKeys()
    return AddressKeys.from_secrets(WebhookSecrets(secret, secretsmanager=target.client("secretsmanager")))
