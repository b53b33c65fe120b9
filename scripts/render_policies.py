"""Prints each function's IAM policies as `sam` renders them: template.yaml through aws-sam-translator.

Runs in the SAM CLI's own environment (.tools/sam), because aws-sam-translator pins a pydantic that the
dev environment's pydantic (the Lambda layer's pin) excludes. Output, on stdout, one JSON object:
{"<FunctionLogicalId>": {"managed": [policy ARN, ...], "statements": [statement, ...]}} with the
intrinsics (Ref, Fn::GetAtt, Fn::Sub) left for the caller to resolve. The statements are the role's own
and those of the AWS::IAM::Policy resources attached to it.

Usage: .tools/sam/bin/python scripts/render_policies.py template.yaml
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform


class StaticManagedPolicies:
    """The translator's managed-policy loader, offline: the names the template's Policies may list.
    SAM attaches AWSLambdaBasicExecutionRole, AWSXRayDaemonWriteAccess and the event sources' roles by
    ARN without asking the loader; it is asked only for managed policies named in Policies."""

    NAMES = (
        "AWSLambdaBasicExecutionRole",
        "AWSLambdaSQSQueueExecutionRole",
        "AWSXRayDaemonWriteAccess",
    )

    def load(self) -> dict[str, str]:
        return {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in self.NAMES}


def _packaged(template: dict[str, Any]) -> dict[str, Any]:
    """Local CodeUri / ContentUri as `sam package` leaves them (S3 URIs): the translator takes no others."""
    for resource in template["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if isinstance((resource.get("Properties") or {}).get(key), str):
                resource["Properties"][key] = "s3://switchboard-artifacts/code.zip"
    return template


class IgnoredPolicies(ValueError):
    """A function names its own Role and lists Policies too: SAM would drop the Policies without a word."""


def _ignored_policies(template: dict[str, Any]) -> list[str]:
    return [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
        and {"Role", "Policies"} <= (resource.get("Properties") or {}).keys()
    ]


def _attached(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The statements of the AWS::IAM::Policy resources attached to `role` (a logs policy that cannot sit
    in the role itself without a dependency cycle, ADR 0017)."""
    return [
        statement
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"].get("Roles", [])
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def render(template: dict[str, Any]) -> dict[str, dict[str, list[Any]]]:
    ignored = _ignored_policies(template)
    if ignored:
        raise IgnoredPolicies(f"{', '.join(ignored)}: Policies next to Role are ignored; grant in the role")
    # Pseudo parameters need a region; the fake account's region, whatever the shell holds.
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    rendered = transform(_packaged(template), {}, StaticManagedPolicies())  # type: ignore[arg-type]
    resources = rendered["Resources"]
    functions: dict[str, dict[str, list[Any]]] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        properties = resources[role]["Properties"]
        statements = [
            statement
            for policy in properties.get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]
        ] + _attached(resources, role)
        functions[logical_id] = {"managed": properties.get("ManagedPolicyArns", []), "statements": statements}
    return functions


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
    print(json.dumps(render(yaml_parse(path.read_text())), indent=1, sort_keys=True))
