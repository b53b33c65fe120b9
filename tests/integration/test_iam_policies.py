"""The template's rendered IAM policies (aws-sam-translator, scripts/render_policies.py) grant what the
functions need beyond the calls the tests record: their SQS event sources, the backoff on their own
source queue and their own log group — nothing on queues that are not theirs, nothing on "*" but X-Ray's
trace writes, no managed policy (docs/adr/0017-explicit-roles.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard_ops.iam.calls import Call
from switchboard_ops.iam.check import any_resource, denied, event_source_calls, foreign_managed
from switchboard_ops.iam.policy import FunctionPolicy, PolicyRenderError, function_policies, resource_arn
from switchboard_ops.local.template import load_template
from switchboard_ops.project import ROOT


@pytest.fixture(scope="module")
def policies() -> dict[str, FunctionPolicy]:
    return function_policies()


def test_every_sqs_event_source_may_receive_delete_and_read_its_queue(
    policies: dict[str, FunctionPolicy],
) -> None:
    # Given what Lambda's event-source mappings do with each SQS-triggered function's role
    needed = event_source_calls(load_template())

    # Then the rendered policies allow all of it
    assert needed
    assert denied(policies, needed) == []


@pytest.mark.parametrize(
    ("function", "own_queue", "other_queue"),
    [
        ("WorkerFunction", "ProcessingQueue", "OutboundQueue"),
        ("SenderFunction", "OutboundQueue", "ProcessingQueue"),
    ],
)
def test_the_backoff_may_change_visibility_on_its_own_source_queue_only(
    policies: dict[str, FunctionPolicy], function: str, own_queue: str, other_queue: str
) -> None:
    def change(queue: str) -> Call:
        return Call(
            function, "sqs:ChangeMessageVisibility", resource_arn("sqs", queue), "ChangeMessageVisibility"
        )

    assert denied(policies, [change(own_queue), change(other_queue)]) == [change(other_queue)]


def test_no_role_grants_anything_on_any_resource_but_xray_trace_writes(
    policies: dict[str, FunctionPolicy],
) -> None:
    assert any_resource(policies) == {}


def test_no_role_carries_a_managed_policy_but_basic_execution(policies: dict[str, FunctionPolicy]) -> None:
    assert foreign_managed(policies) == {}


@pytest.mark.parametrize(
    ("function", "own_queue", "other_queue"),
    [
        ("WorkerFunction", "ProcessingQueue", "OutboundQueue"),
        ("SenderFunction", "OutboundQueue", "ProcessingQueue"),
        ("HealthCheckFunction", "HealthVerifyQueue", "ProcessingQueue"),
        ("ReconcileFunction", "ReconcileContinuationQueue", "ProcessingQueue"),
    ],
)
def test_an_event_source_may_receive_from_its_own_queue_only(
    policies: dict[str, FunctionPolicy], function: str, own_queue: str, other_queue: str
) -> None:
    def receive(queue: str) -> Call:
        return Call(function, "sqs:ReceiveMessage", resource_arn("sqs", queue), "EventSourceMapping")

    assert denied(policies, [receive(own_queue), receive(other_queue)]) == [receive(other_queue)]


def test_each_function_writes_logs_to_its_own_log_group_only(policies: dict[str, FunctionPolicy]) -> None:
    for function, policy in policies.items():
        logs = {(g.action, g.resource) for g in policy.grants() if g.action.startswith("logs:")}
        own = f"{function}LogGroup.Arn"  # the log group's Arn attribute, as the resolver names it
        assert logs == {("logs:CreateLogStream", own), ("logs:PutLogEvents", own)}, function


def test_policies_next_to_a_functions_own_role_are_refused_not_ignored(tmp_path: Path) -> None:
    # Given a function with its own Role that also lists Policies (SAM would drop them silently)
    text = (ROOT / "template.yaml").read_text()
    role = "      Role: !GetAtt WorkerFunctionRole.Arn\n"
    assert role in text
    extra = "      Policies: [AWSLambdaBasicExecutionRole]\n"
    changed = tmp_path / "template.yaml"
    changed.write_text(text.replace(role, role + extra))

    # When its policies are rendered, then the grant that would be lost is an error
    with pytest.raises(PolicyRenderError, match="WorkerFunction: Policies next to Role"):
        function_policies(changed)
