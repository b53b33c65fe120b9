"""Each function's IAM policy as rendered by aws-sam-translator (scripts/render_policies.py), with the
intrinsics resolved to fake ARNs, and a small evaluator: is this action on this resource allowed?

Fake ARNs name every resource by its logical id (account 123456789012, us-east-1); recorded calls are
named the same way (calls.canonical), so a policy and a call compare without a deployed stack."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from switchboard_ops.iam.managed_policies import MANAGED_POLICIES
from switchboard_ops.project import ROOT

REGION = "us-east-1"
ACCOUNT = "123456789012"
ARN_SUFFIX = "AbCdEf"  # noqa: S105 - not a secret: Secrets Manager appends 6 random characters to an ARN
SAM_PYTHON = ROOT / ".tools" / "sam" / "bin" / "python"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "switchboard",
}


class PolicyRenderError(RuntimeError):
    """The template could not be rendered (the SAM tools environment is missing, or the translator failed)."""


def queue_url(name: str) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"


def resource_arn(service: str, name: str) -> str:
    """The fake ARN of the resource `name` (a logical id) of `service`."""
    if service == "dynamodb":
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    if service == "secretsmanager":
        return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-{ARN_SUFFIX}"
    if service == "s3":
        return f"arn:aws:s3:::{name.lower()}"
    if service == "ssm":
        return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name}"
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"


_SERVICE_OF_TYPE = {
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::SQS::Queue": "sqs",
    "AWS::SNS::Topic": "sns",
    "AWS::SecretsManager::Secret": "secretsmanager",
    "AWS::S3::Bucket": "s3",
    "AWS::SSM::Parameter": "ssm",
}


class Resolver:
    """Ref / Fn::GetAtt / Fn::Sub / Fn::Join over the template's resources and parameter defaults."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.types = {name: res.get("Type", "") for name, res in template.get("Resources", {}).items()}
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in (template.get("Parameters") or {}).items()
        }

    def ref(self, name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        service = _SERVICE_OF_TYPE.get(self.types.get(name, ""))
        if service in ("dynamodb", "ssm"):  # Ref: a table's or a parameter's name
            return name
        if service == "sqs":
            return queue_url(name)
        if service == "s3":
            return name.lower()
        if service is not None:
            return resource_arn(service, name)
        return name  # functions, APIs: their logical id stands for their physical name

    def get_att(self, name: str, attribute: str) -> str:
        service = _SERVICE_OF_TYPE.get(self.types.get(name, ""), "")
        if attribute in ("QueueName", "TopicName"):
            return name
        if attribute in ("Arn", "TopicArn") and service:
            return resource_arn(service, name)
        return f"{name}.{attribute}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self.ref(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            name, attribute = target.split(".", 1) if isinstance(target, str) else target
            return self.get_att(name, attribute)
        if "Fn::Sub" in value:
            return self._sub(value["Fn::Sub"])
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(part)) for part in parts)
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, spec: Any) -> str:
        text, variables = (spec, {}) if isinstance(spec, str) else spec
        given = {key: str(self.resolve(item)) for key, item in variables.items()}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in given:
                return given[name]
            if "." in name and name not in PSEUDO:
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", one, text)


def _listed(value: Any) -> list[str]:
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _pattern(glob: str, *, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters, `?` any one character."""
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in glob)
    return re.compile("".join(parts), re.IGNORECASE if ignore_case else 0)


def matches_action(pattern: str, action: str) -> bool:
    return _pattern(pattern, ignore_case=True).fullmatch(action) is not None


def matches_resource(pattern: str, resource: str) -> bool:
    return _pattern(pattern, ignore_case=False).fullmatch(resource) is not None


@dataclass(frozen=True)
class Grant:
    """One (action pattern, resource pattern) pair of an Allow statement."""

    action: str
    resource: str

    def allows(self, action: str, resource: str) -> bool:
        return matches_action(self.action, action) and matches_resource(self.resource, resource)


def _grants(statements: tuple[dict[str, Any], ...]) -> list[Grant]:
    return [
        Grant(action, resource)
        for statement in statements
        if statement.get("Effect") == "Allow"
        for action in _listed(statement.get("Action", []))
        for resource in _listed(statement.get("Resource", []))
    ]


@dataclass(frozen=True)
class FunctionPolicy:
    """A function's role: its own statements (inline and attached policies) and its managed policies."""

    function: str
    statements: tuple[dict[str, Any], ...]
    managed: tuple[str, ...] = ()  # managed policy ARNs, each listed in managed_policies.py

    def all_statements(self, *, except_managed: frozenset[str] = frozenset()) -> tuple[dict[str, Any], ...]:
        """The role's statements and its managed policies' (those named in `except_managed` left out)."""
        managed = [arn for arn in self.managed if arn not in except_managed]
        return self.statements + tuple(s for arn in managed for s in MANAGED_POLICIES[arn])

    def grants(self, *, except_managed: frozenset[str] = frozenset()) -> list[Grant]:
        """Every Allow (action, resource) pair, the managed policies' included but `except_managed`."""
        return _grants(self.all_statements(except_managed=except_managed))

    def allows(self, action: str, resource: str) -> bool:
        """Allowed by some Allow statement and by no Deny statement (IAM's explicit deny wins)."""
        for statement in self.all_statements():
            if statement.get("Effect") != "Deny":
                continue
            if any(matches_action(a, action) for a in _listed(statement.get("Action", []))) and any(
                matches_resource(r, resource) for r in _listed(statement.get("Resource", []))
            ):
                return False
        return any(grant.allows(action, resource) for grant in self.grants())


def policies_from(rendered: dict[str, Any], template: dict[str, Any]) -> dict[str, FunctionPolicy]:
    """render_policies.py's output, resolved: the function's own statements and its managed policies."""
    resolver = Resolver(template)
    policies = {}
    for function, role in rendered.items():
        for arn in role["managed"]:
            if arn not in MANAGED_POLICIES:
                raise PolicyRenderError(f"{function}: managed policy {arn} is not in managed_policies.py")
        statements = tuple(resolver.resolve(role["statements"]))
        policies[function] = FunctionPolicy(function, statements, tuple(role["managed"]))
    return policies


@cache
def render(template_path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    """The translator's output for the template (one subprocess, in the SAM tools environment)."""
    if not SAM_PYTHON.exists():
        raise PolicyRenderError(f"{SAM_PYTHON} is missing: `make test` installs it (or `make validate`)")
    result = subprocess.run(  # noqa: S603 - our own script, in our own tools environment
        [str(SAM_PYTHON), str(ROOT / "scripts" / "render_policies.py"), str(template_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise PolicyRenderError(f"render_policies.py failed:\n{result.stderr[-2000:]}")
    rendered: dict[str, Any] = json.loads(result.stdout)
    return rendered


def function_policies(template_path: Path = ROOT / "template.yaml") -> dict[str, FunctionPolicy]:
    from switchboard_ops.local.template import load_template

    return policies_from(render(template_path), load_template(template_path))
