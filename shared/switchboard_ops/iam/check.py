"""The IAM check: every recorded call allowed by its function's rendered policy; grants no call used; no
grant on Resource "*" outside a short allow-list, and no managed policy but AWSLambdaBasicExecutionRole.

Besides the calls the handlers make, each SQS event source needs its function's role to receive,
delete and read the attributes of its queue (Lambda polls with that role), so those are checked too."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from switchboard_ops.iam.calls import Call
from switchboard_ops.iam.policy import FunctionPolicy, Grant, resource_arn

# What the Lambda service itself does with a function's role, not the function's code: writing its logs
# and traces. These grants are never exercised by a test and are not reported as unused.
RUNTIME_PREFIXES = ("logs:", "xray:")
EVENT_SOURCE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
# The only actions a role may grant on Resource "*": those with no resource type in the Service Authorization
# Reference (docs.aws.amazon.com/service-authorization/latest/reference/), so no ARN can narrow them.
# X-Ray's trace writes (Tracing is Active); CloudWatch's GetMetricData, which the daily digest reads its
# webhook counts with (list_amazoncloudwatch.html: its Resource types column is empty).
ANY_RESOURCE_ACTIONS = frozenset(
    {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:GetMetricData"}
)
# The one managed policy a role may carry (logs on "*", for a SAM-generated role without tracing); with
# every function on its own role (ADR 0017), none carries even this one today.
ALLOWED_MANAGED_POLICIES = frozenset({"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"})


def event_source_calls(template: dict[str, Any]) -> set[Call]:
    from switchboard_ops.local.functions import function_specs

    return {
        Call(spec.logical_id, action, resource_arn("sqs", source.queue), "EventSourceMapping")
        for spec in function_specs(template).values()
        for source in spec.sqs_events
        for action in EVENT_SOURCE_ACTIONS
    }


def denied(policies: dict[str, FunctionPolicy], calls: Iterable[Call]) -> list[Call]:
    """Calls their function's policy does not allow (a function missing from the template allows nothing)."""
    return sorted(
        call
        for call in calls
        if call.function not in policies or not policies[call.function].allows(call.action, call.resource)
    )


def unexercised(policies: dict[str, FunctionPolicy], calls: Iterable[Call]) -> dict[str, list[Grant]]:
    """Each function's grants that no call matched (runtime grants aside)."""
    made = list(calls)
    unused: dict[str, list[Grant]] = {}
    for function, policy in sorted(policies.items()):
        mine = [call for call in made if call.function == function]
        grants = [
            grant
            for grant in policy.grants()
            if not grant.action.startswith(RUNTIME_PREFIXES)
            and not any(grant.allows(call.action, call.resource) for call in mine)
        ]
        if grants:
            unused[function] = grants
    return unused


def any_resource(policies: dict[str, FunctionPolicy]) -> dict[str, list[Grant]]:
    """Grants on every resource (`*`) of an action not allow-listed, from the role's own statements and its
    managed policies (AWSLambdaBasicExecutionRole's logs aside: that policy is allowed)."""
    wide = {
        function: [
            g
            for g in policy.grants(except_managed=ALLOWED_MANAGED_POLICIES)
            if g.resource == "*" and g.action not in ANY_RESOURCE_ACTIONS
        ]
        for function, policy in sorted(policies.items())
    }
    return {function: grants for function, grants in wide.items() if grants}


def foreign_managed(policies: dict[str, FunctionPolicy]) -> dict[str, list[str]]:
    """Each role's managed policies but AWSLambdaBasicExecutionRole: statements the template does not show."""
    extra = {
        function: [arn for arn in policy.managed if arn not in ALLOWED_MANAGED_POLICIES]
        for function, policy in sorted(policies.items())
    }
    return {function: arns for function, arns in extra.items() if arns}


def describe_denied(calls: list[Call]) -> str:
    lines = [f"  {call.function}: {call.action} on {call.resource} ({call.operation})" for call in calls]
    return "\n".join(["Calls the template's IAM policies deny:", *lines])


def describe_managed(managed: dict[str, list[str]]) -> str:
    lines = [f"  {function}: {arn}" for function, arns in managed.items() for arn in arns]
    return "\n".join(["Managed policies other than AWSLambdaBasicExecutionRole:", *lines])


def describe_grants(title: str, grants: dict[str, list[Grant]]) -> str:
    lines = [
        f"  {function}: {g.action} on {g.resource}" for function, listed in grants.items() for g in listed
    ]
    return "\n".join([title, *lines])
