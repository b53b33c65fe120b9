"""The template's rendered IAM policies (aws-sam-translator, scripts/render_policies.py) grant what the
functions need beyond the calls the tests record: their SQS event sources, and the backoff on their own
source queue — and nothing on queues that are not theirs."""

from __future__ import annotations

import pytest

from switchboard_ops.iam.calls import Call
from switchboard_ops.iam.check import denied, event_source_calls
from switchboard_ops.iam.policy import FunctionPolicy, function_policies, resource_arn
from switchboard_ops.local.template import load_template


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
