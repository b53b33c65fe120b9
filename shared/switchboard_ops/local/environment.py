"""The process environment the local stack gives its functions: AWS pointed at moto with dummy
credentials, each function's template variables with `!Ref`s resolved to the local resources, and the
few values only a local stack can give (`sandbox_environment`): the providers' API base URLs pointing at
the sandbox provider, the callback base URL, the health check's canary numbers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from switchboard_ops.local.functions import FunctionSpec
from switchboard_ops.local.provision import StackResources

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}  # noqa: S105 - moto's


def aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """Every boto3 client in the process (handlers' included) talks to moto, never to a real account."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        **DUMMY_CREDENTIALS,
    }


def _resolve(value: Any, resources: StackResources, parameters: dict[str, str]) -> str | None:
    """A `!Ref` / `!GetAtt` to something the local stack has, as CloudFormation would resolve it."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((kind, target),) = value.items()
    if kind == "Ref":
        if target in parameters:
            return parameters[target]
        physical_names = (
            resources.tables,
            resources.buckets,
            resources.queues,
            resources.topics,
            resources.secrets,
            resources.parameters,
        )
        for physical in physical_names:
            if target in physical:
                return physical[target]
    if kind == "Fn::GetAtt" and isinstance(target, list) and len(target) == 2:
        logical_id, attribute = target
        if logical_id in resources.queues:
            url = resources.queues[logical_id]
            return {
                "Arn": resources.queue_arns[logical_id],
                "QueueName": url.rsplit("/", 1)[-1],
                "QueueUrl": url,
            }.get(attribute)
        if logical_id in resources.topics and attribute in ("TopicArn", "Arn"):
            return resources.topics[logical_id]
        if logical_id in resources.buckets and attribute == "Arn":
            return f"arn:aws:s3:::{resources.buckets[logical_id]}"
    return None


def sandbox_environment(
    *, sandbox_url: str, api_url: str, canary_from: str, canary_to: str, sender_concurrency: int = 1
) -> dict[str, str]:
    """What the local stack sets instead of the template, so that no product code knows the providers are
    the sandbox: both providers' REST APIs at the sandbox's URL, status callbacks to the local API, the
    canary sent from one sandbox-owned number to the other, and the sender's share of the provider rate
    limits for how many senders really run at once here (the pollers take turns: one). The sandbox holds
    both providers' lists, so reconciliation covers both (a deployment chooses in RECONCILE_PROVIDERS).
    The worker classifies through the sandbox's chat completions (`--env LLM_PROVIDER=` turns it off;
    `--env LLM_PROVIDER=bedrock --env LLM_BASE_URL=<sandbox URL>` speaks Converse to it instead)."""
    return {
        "TWILIO_API_BASE_URL": sandbox_url,
        "OPENPHONE_API_BASE_URL": sandbox_url,
        **{f"{name}_API_BASE_URL": sandbox_url for name in ("GHL", "SMARTLEAD", "INSTANTLY", "UNIPILE")},
        "LLM_PROVIDER": "openai",
        "LLM_MODEL": "gpt-4o-mini",
        "LLM_BASE_URL": f"{sandbox_url}/v1",
        "CALLBACK_BASE_URL": api_url,
        "CANARY_FROM_NUMBER": canary_from,
        "CANARY_TO_NUMBER": canary_to,
        "REMINDER_FROM_NUMBER": canary_from,  # a sandbox-owned number: reminders go out from it
        "SENDER_CONCURRENCY": str(sender_concurrency),
        "RECONCILE_PROVIDERS": "twilio,openphone",
    }


def function_environment(
    specs: Iterable[FunctionSpec],
    resources: StackResources,
    parameters: dict[str, str],
    *,
    local: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """The merged variables of every function (they share this process) and notes on what is left unset.

    Variables with the same name but different values in two functions cannot both hold in one
    process: the later function's value wins and a note says so. `local` values are set last, over the
    template's (CALLBACK_BASE_URL's `!If` of the API's own domain, say), with no note.
    """
    local = dict(local or {})
    environment: dict[str, str] = {}
    owners: dict[str, str] = {}
    notes: list[str] = []
    for spec in specs:
        values: dict[str, str] = dict(spec.environment)
        for name, reference in spec.references.items():
            if name in local:
                continue
            resolved = _resolve(reference, resources, parameters)
            if resolved is None:
                notes.append(f"{spec.logical_id}: {name} is not set locally ({reference})")
            else:
                values[name] = resolved
        for name, value in values.items():
            if name in environment and environment[name] != value:
                notes.append(
                    f"{name}: {owners[name]} and {spec.logical_id} differ; {spec.logical_id}'s applies"
                )
            environment[name], owners[name] = value, spec.logical_id
    environment.update(resources.environment())
    environment.update(local)
    return environment, notes


def template_parameters(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    """Parameter values for `!Ref`: the template defaults, then the local stack's overrides."""
    parameters = {
        name: str(props.get("Default", "")) for name, props in (template.get("Parameters") or {}).items()
    }
    parameters.update(overrides)
    return parameters


# The durations that `--time-scale` shortens (template values, in seconds): the worker's backoff and
# lease, how long the health check waits for its canary (120 s: 2 s at time scale 60), and when a send's
# status callback is overdue (alarm_evaluator.py: the whole alarm loop scales).
TIME_SCALED_VARIABLES = (
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "JOB_LEASE_SECONDS",
    "CANARY_TIMEOUT_SECONDS",
    "CALLBACK_OVERDUE_SECONDS",
)
# Lower bounds the functions' settings enforce (function_settings.py): scaling stops there. At time scale
# 4 or less CALLBACK_OVERDUE_SECONDS (120) scales exactly; above 4 it stays 30 real seconds, so a broken
# callback loop takes longer than 120 s + two minutes to alarm in stack time.
TIME_SCALED_FLOORS = {"CALLBACK_OVERDUE_SECONDS": 30}


def time_scaled(environment: dict[str, str], scale: float) -> dict[str, str]:
    """The worker's backoff and lease durations and the canary's timeout divided by `scale`, each at
    least 1 s.

    moto keeps SQS visibility in real time, and the retry ladder is nothing but visibility timeouts the
    worker sets from BACKOFF_BASE_SECONDS / BACKOFF_CAP_SECONDS (60 s doubling to 960 s). Shortening those
    variables makes the ladder run `scale` times faster with no clock faked anywhere: at 60, a minute of
    backoff passes in a second (1, 2, 4, 8, 16 s). JOB_LEASE_SECONDS shrinks with them so a crashed
    worker's claim is taken over as much sooner. CANARY_TIMEOUT_SECONDS is the SQS delay of the health
    check's verification, so the canary is judged that much sooner too; CALLBACK_OVERDUE_SECONDS keeps the
    callback watch in step with the scaled schedules and alarm periods (TIME_SCALED_FLOORS). The queue's
    own VisibilityTimeout (a batch that raised), the sender's retry backoff (switchboard.retry.OUTBOUND_SENDS,
    not a variable) and the functions' timeouts stay real time. Returns only the variables it changed.
    """
    if scale == 1:
        return {}
    changed = {}
    for name in TIME_SCALED_VARIABLES:
        value = environment.get(name, "")
        if value.isdigit():
            changed[name] = str(max(TIME_SCALED_FLOORS.get(name, 1), round(int(value) / scale)))
    return changed
