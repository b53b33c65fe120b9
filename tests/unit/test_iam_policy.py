"""Known answers for the IAM check's parts: the policy evaluator, the intrinsic resolver, and the reduction
of an AWS call to the (action, resource) pairs IAM authorizes it by."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from switchboard_ops.iam.calls import Call, requirements
from switchboard_ops.iam.check import any_resource, denied, foreign_managed, unexercised
from switchboard_ops.iam.policy import FunctionPolicy, Resolver, policies_from
from switchboard_ops.local.template import load_template

ARN = "arn:aws:{}:us-east-1:123456789012:{}"
TABLE = ARN.format("dynamodb", "table/EventsTable")
PROCESSING_QUEUE = ARN.format("sqs", "ProcessingQueue")
OUTBOUND_QUEUE = ARN.format("sqs", "OutboundQueue")
BEFORE = Path(__file__).parent / "data" / "rendered_policies_before_issue9.json"
# main at 0b966f4, rendered: SAM's generated roles, explicit statements (ADR 0006), managed policies attached.
BEFORE_ADR_17 = Path(__file__).parent / "data" / "rendered_policies_before_adr17.json"
MANAGED = "arn:aws:iam::aws:policy/"
BASIC, SQS_EXECUTION = (
    f"{MANAGED}service-role/AWSLambdaBasicExecutionRole",
    f"{MANAGED}service-role/AWSLambdaSQSQueueExecutionRole",
)


def policy(*statements: dict[str, Any]) -> FunctionPolicy:
    return FunctionPolicy("Fn", tuple(statements))


def allow(action: Any, resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def test_the_worker_policy_before_issue_9_denies_its_backoff_visibility_change() -> None:
    # Given the worker's and the sender's policies as sam rendered them before the fix (a saved copy)
    policies = policies_from(json.loads(BEFORE.read_text()), load_template())

    # When their backoff changes the visibility of a message on their own source queue
    calls = [
        Call("WorkerFunction", "sqs:ChangeMessageVisibility", PROCESSING_QUEUE, "ChangeMessageVisibility"),
        Call("SenderFunction", "sqs:ChangeMessageVisibility", OUTBOUND_QUEUE, "ChangeMessageVisibility"),
    ]

    # Then both are denied: the SQS event source's managed policy grants receive/delete/attributes only
    assert denied(policies, calls) == sorted(calls)


def test_the_worker_policy_before_issue_9_allows_what_the_event_source_needs() -> None:
    policies = policies_from(json.loads(BEFORE.read_text()), load_template())

    assert policies["WorkerFunction"].allows("sqs:ReceiveMessage", PROCESSING_QUEUE)


def test_an_action_wildcard_matches_the_actions_it_names_and_no_others() -> None:
    # Given a grant of dynamodb:*Item on the table
    given = policy(allow("dynamodb:*Item", TABLE))

    # Then item actions are allowed, case-insensitively, and a Query is not
    assert given.allows("dynamodb:PutItem", TABLE)
    assert given.allows("DynamoDB:getitem", TABLE)
    assert not given.allows("dynamodb:Query", TABLE)


def test_an_index_grant_covers_the_tables_indexes_but_not_the_table() -> None:
    given = policy(allow(["dynamodb:Query"], [f"{TABLE}/index/*"]))

    assert given.allows("dynamodb:Query", f"{TABLE}/index/UnfinishedJobs")
    assert not given.allows("dynamodb:Query", TABLE)


def test_a_resource_is_matched_whole_and_case_sensitively() -> None:
    given = policy(allow("sqs:SendMessage", PROCESSING_QUEUE))

    assert not given.allows("sqs:SendMessage", f"{PROCESSING_QUEUE}DeadLetterQueue")
    assert not given.allows("sqs:SendMessage", PROCESSING_QUEUE.lower())


def test_a_question_mark_matches_exactly_one_character() -> None:
    given = policy(allow("s3:GetObject", "arn:aws:s3:::raw/a?c"))

    assert given.allows("s3:GetObject", "arn:aws:s3:::raw/abc")
    assert not given.allows("s3:GetObject", "arn:aws:s3:::raw/abbc")


def test_an_explicit_deny_wins_over_an_allow() -> None:
    given = policy(
        allow("sqs:*", "*"), {"Effect": "Deny", "Action": "sqs:DeleteMessage", "Resource": PROCESSING_QUEUE}
    )

    assert given.allows("sqs:SendMessage", PROCESSING_QUEUE)
    assert not given.allows("sqs:DeleteMessage", PROCESSING_QUEUE)


def test_a_call_of_a_function_the_template_does_not_have_is_denied() -> None:
    call = Call("GhostFunction", "sqs:SendMessage", PROCESSING_QUEUE, "SendMessage")

    assert denied({"Fn": policy(allow("*", "*"))}, [call]) == [call]


def test_grants_no_call_matched_are_unexercised_and_runtime_grants_are_not_reported() -> None:
    given = {
        "Fn": policy(allow(["dynamodb:GetItem", "dynamodb:Scan"], TABLE), allow("logs:CreateLogStream", "*"))
    }

    unused = unexercised(given, [Call("Fn", "dynamodb:GetItem", TABLE, "GetItem")])

    assert [(grant.action, grant.resource) for grant in unused["Fn"]] == [("dynamodb:Scan", TABLE)]


def test_sub_getatt_and_ref_resolve_to_the_fake_arns_the_calls_use() -> None:
    resolver = Resolver(load_template())

    assert (
        resolver.resolve(
            {
                "Fn::Sub": [
                    "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}",
                    {"queueName": {"Fn::GetAtt": ["ProcessingQueue", "QueueName"]}},
                ]
            }
        )
        == PROCESSING_QUEUE
    )
    assert resolver.resolve({"Fn::GetAtt": ["EventsTable", "Arn"]}) == TABLE
    assert resolver.resolve({"Fn::Sub": "${EventsTable.Arn}/index/*"}) == f"{TABLE}/index/*"
    assert resolver.resolve({"Ref": "AlertsTopic"}) == ARN.format("sns", "AlertsTopic")
    assert resolver.resolve({"Ref": "LogRetentionDays"}) == "30"


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        (
            "sqs",
            "ChangeMessageVisibilityBatch",
            {"QueueUrl": "http://localhost:5000/123456789012/switchboard-local-ProcessingQueue"},
            [("sqs:ChangeMessageVisibility", PROCESSING_QUEUE)],
        ),
        (
            "dynamodb",
            "Query",
            {"TableName": "switchboard-local-EventsTable", "IndexName": "UnfinishedJobs"},
            [("dynamodb:Query", f"{TABLE}/index/UnfinishedJobs")],
        ),
        (
            "dynamodb",
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "t-EventsTable"}},
                    {"ConditionCheck": {"TableName": "t-EventsTable"}},
                ]
            },
            [("dynamodb:PutItem", TABLE), ("dynamodb:ConditionCheckItem", TABLE)],
        ),
        (
            "secretsmanager",
            "GetSecretValue",
            {"SecretId": ARN.format("secretsmanager", "secret:switchboard-local-WebhookSecrets-x1Y2z3")},
            [("secretsmanager:GetSecretValue", ARN.format("secretsmanager", "secret:WebhookSecrets-AbCdEf"))],
        ),
        (
            "s3",
            "PutObject",
            {"Bucket": "switchboard-local-rawpayloadsbucket", "Key": "raw/twilio/SM1"},
            [("s3:PutObject", "arn:aws:s3:::rawpayloadsbucket/raw/twilio/SM1")],
        ),
        (
            "s3",
            "HeadObject",
            {"Bucket": "switchboard-local-rawpayloadsbucket", "Key": "raw/twilio/SM1"},
            [("s3:GetObject", "arn:aws:s3:::rawpayloadsbucket/raw/twilio/SM1")],
        ),
    ],
)
def test_a_call_is_reduced_to_the_actions_and_resources_iam_authorizes_it_by(
    service: str, operation: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert requirements(service, operation, params) == expected


def test_the_roles_before_adr_17_grant_sqs_on_any_resource_and_carry_foreign_managed_policies() -> None:
    # Given the policies sam rendered from main before the explicit roles (a saved copy)
    policies = policies_from(json.loads(BEFORE_ADR_17.read_text()), load_template())

    # When the two checks look at them
    wide, foreign = any_resource(policies), foreign_managed(policies)

    # Then the worker may receive from any queue in the account, and every role carries X-Ray's managed policy
    assert ("sqs:ReceiveMessage", "*") in [(grant.action, grant.resource) for grant in wide["WorkerFunction"]]
    assert set(foreign) == set(policies)
    assert f"{MANAGED}AWSXrayWriteOnlyAccess" in foreign["IngestFunction"]


def test_xray_trace_writes_are_the_only_grants_allowed_on_any_resource() -> None:
    # Given a role granting X-Ray's writes, X-Ray's sampling reads and a log write on "*"
    given = {
        "Fn": policy(
            allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules"], "*"),
            allow("logs:PutLogEvents", "*"),
        )
    }

    # Then all but the two trace writes are reported
    assert [grant.action for grant in any_resource(given)["Fn"]] == [
        "xray:GetSamplingRules",
        "logs:PutLogEvents",
    ]


def test_basic_execution_is_the_only_managed_policy_a_role_may_carry() -> None:
    # Given a role with the basic execution policy and the SQS execution policy
    given = {"Fn": FunctionPolicy("Fn", (), (BASIC, SQS_EXECUTION))}

    # Then the SQS one is foreign, and its grants on "*" are reported; the basic one's logs are not
    assert foreign_managed(given) == {"Fn": [SQS_EXECUTION]}
    wide = [(grant.action, grant.resource) for grant in any_resource(given)["Fn"]]
    assert ("sqs:ReceiveMessage", "*") in wide
    assert wide.count(("logs:PutLogEvents", "*")) == 1
