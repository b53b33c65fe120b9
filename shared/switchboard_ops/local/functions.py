"""The template's functions as the local stack runs them: code directory, handler, timeout, memory, plain
environment variables (Globals merged with the function's own), HttpApi routes, SQS event sources and
Schedule / ScheduleV2 events."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from switchboard_ops.local.template import resources_of_type

FUNCTION_TYPE = "AWS::Serverless::Function"


@dataclass(frozen=True)
class HttpRoute:
    """One `Events: {Type: HttpApi}` entry: `POST /webhooks/{provider+}` for `function`."""

    method: str
    path: str
    function: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsEventSource:
    """One `Events: {Type: SQS}` entry: the event-source mapping Lambda runs from `queue` to `function`."""

    function: str
    queue: str  # the queue's logical id (`Queue: !GetAtt ProcessingQueue.Arn`), or the literal ARN given
    batch_size: int = 10
    batching_window_seconds: int = 0
    report_batch_item_failures: bool = False  # FunctionResponseTypes: [ReportBatchItemFailures]
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleSource:
    """One `Events: {Type: Schedule | ScheduleV2}` entry: an EventBridge rule (or Scheduler schedule)."""

    function: str
    event: str  # the event's name under Events ("Hourly")
    expression: str  # rate(1 hour), cron(0 2 * * ? *), at(2026-01-01T00:00:00)
    kind: str = "Schedule"  # or "ScheduleV2"
    enabled: bool = True
    input: str | None = None  # Input: the JSON text sent instead of the scheduled event
    timezone: str = "UTC"  # ScheduleV2's ScheduleExpressionTimezone (rules are always UTC)
    name: str | None = None  # Properties.Name

    @property
    def rule_name(self) -> str:
        """SAM names the rule after the function and the event (`HealthCheckFunctionHourly`)."""
        return self.name or f"{self.function}{self.event}"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: str  # functions/<code_dir>/, what project.load_handler takes
    module: str  # "app" for Handler: app.handler
    handler: str  # "handler"
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str] = field(default_factory=dict)  # plain strings only
    references: dict[str, Any] = field(default_factory=dict)  # !Ref / !GetAtt values, resolved by the stack
    routes: tuple[HttpRoute, ...] = ()
    sqs_events: tuple[SqsEventSource, ...] = ()
    schedules: tuple[ScheduleSource, ...] = ()
    max_concurrency: int | None = None  # the smallest SQS ScalingConfig.MaximumConcurrency, if any


def _globals(template: dict[str, Any]) -> dict[str, Any]:
    return (template.get("Globals") or {}).get("Function") or {}


def _variables(props: dict[str, Any]) -> dict[str, Any]:
    return dict(((props.get("Environment") or {}).get("Variables")) or {})


def _routes(logical_id: str, props: dict[str, Any]) -> tuple[HttpRoute, ...]:
    routes = []
    for event in (props.get("Events") or {}).values():
        if event.get("Type") != "HttpApi":
            continue
        properties = event.get("Properties") or {}
        # An HttpApi event without Path/Method is the API's catch-all `$default` route.
        method = str(properties.get("Method", "ANY")).upper()
        path = str(properties.get("Path", "$default"))
        routes.append(HttpRoute(method="ANY" if method == "*" else method, path=path, function=logical_id))
    return tuple(routes)


def _queue(value: Any) -> str:
    """`!GetAtt Queue.Arn` -> "Queue"; anything else (a literal ARN, an import) as its text."""
    if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute == "Arn":
            return str(logical_id)
    return str(value)


def _sqs_events(logical_id: str, props: dict[str, Any]) -> tuple[SqsEventSource, ...]:
    sources = []
    for event in (props.get("Events") or {}).values():
        if event.get("Type") != "SQS":
            continue
        properties = event.get("Properties") or {}
        sources.append(
            SqsEventSource(
                function=logical_id,
                queue=_queue(properties.get("Queue")),
                batch_size=int(properties.get("BatchSize", 10)),
                batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in (properties.get("FunctionResponseTypes") or ()),
                enabled=properties.get("Enabled", True) not in (False, "false", "False"),
            )
        )
    return tuple(sources)


def _enabled(properties: dict[str, Any]) -> bool:
    if properties.get("Enabled", True) in (False, "false", "False"):
        return False
    return str(properties.get("State", "ENABLED")).upper() != "DISABLED"


def _schedules(logical_id: str, props: dict[str, Any]) -> tuple[ScheduleSource, ...]:
    schedules = []
    for name, event in (props.get("Events") or {}).items():
        kind = event.get("Type")
        if kind not in ("Schedule", "ScheduleV2"):
            continue
        properties = event.get("Properties") or {}
        expression = properties.get("Schedule" if kind == "Schedule" else "ScheduleExpression")
        given_input = properties.get("Input")
        schedules.append(
            ScheduleSource(
                function=logical_id,
                event=str(name),
                expression=str(expression or ""),
                kind=kind,
                enabled=_enabled(properties),
                input=given_input if isinstance(given_input, str) else None,
                timezone=str(properties.get("ScheduleExpressionTimezone") or "UTC"),
                name=properties["Name"] if isinstance(properties.get("Name"), str) else None,
            )
        )
    return tuple(schedules)


def _max_concurrency(props: dict[str, Any]) -> int | None:
    limits = [
        int(((event.get("Properties") or {}).get("ScalingConfig") or {})["MaximumConcurrency"])
        for event in (props.get("Events") or {}).values()
        if event.get("Type") == "SQS"
        and "MaximumConcurrency" in (((event.get("Properties") or {}).get("ScalingConfig")) or {})
    ]
    return min(limits) if limits else None


def _is_plain(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _plain(value: str | int | float | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def function_specs(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function, with Globals.Function applied the way SAM applies them."""
    defaults = _globals(template)
    specs = {}
    for logical_id, own in resources_of_type(template, FUNCTION_TYPE).items():
        props = {**defaults, **own}
        variables = {**_variables(defaults), **_variables(own)}
        module, _, handler = str(props.get("Handler", "app.handler")).rpartition(".")
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=PurePosixPath(str(props["CodeUri"]).rstrip("/")).name,
            module=module or "app",
            handler=handler,
            timeout_seconds=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
            environment={key: _plain(value) for key, value in variables.items() if _is_plain(value)},
            references={key: value for key, value in variables.items() if not _is_plain(value)},
            routes=_routes(logical_id, own),
            sqs_events=_sqs_events(logical_id, own),
            schedules=_schedules(logical_id, own),
            max_concurrency=_max_concurrency(own),
        )
    return specs
