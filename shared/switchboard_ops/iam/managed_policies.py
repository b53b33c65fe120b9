"""The statements of the AWS managed policies SAM attaches to the functions' roles, kept as data so the
IAM check runs offline. Source: the AWS Managed Policy Reference Guide,
https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<PolicyName>.html (policy versions of
2024-2025: AWSLambdaBasicExecutionRole v1, AWSLambdaSQSQueueExecutionRole v2, AWSXrayWriteOnlyAccess v3)."""

from __future__ import annotations

from typing import Any

_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]

MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {"Effect": "Allow", "Action": _LOGS, "Resource": "*"},
    ],
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS],
            "Resource": "*",
        },
    ],
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        },
    ],
}
