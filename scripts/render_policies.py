"""Prints each function's IAM policies as `sam` renders them: template.yaml through aws-sam-translator.

Runs in the SAM CLI's own environment (.tools/sam), because aws-sam-translator pins a pydantic that the
dev environment's pydantic (the Lambda layer's pin) excludes. Output, on stdout, one JSON object:
{"<FunctionLogicalId>": {"managed": [policy ARN, ...], "statements": [statement, ...]}} with the
intrinsics (Ref, Fn::GetAtt, Fn::Sub) left for the caller to resolve.

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


def render(template: dict[str, Any]) -> dict[str, dict[str, list[Any]]]:
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
        ]
        functions[logical_id] = {"managed": properties.get("ManagedPolicyArns", []), "statements": statements}
    return functions


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
    print(json.dumps(render(yaml_parse(path.read_text())), indent=1, sort_keys=True))
