"""Creates the template's tables, buckets, queues (dead-letter queues first), topics, secrets and SSM
parameters in an AWS endpoint — moto in-process for integration tests, moto's server for the local stack."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from switchboard_ops.local.template import load_template, resources_of_type

_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
)


@dataclass
class StackResources:
    """Physical names of what was created, by the template's logical ids."""

    prefix: str
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)  # SSM parameters: logical id -> name

    def environment(self) -> dict[str, str]:
        """The environment variables template.yaml's Globals give every function."""
        return {
            "TABLE_NAME": self.tables["EventsTable"],
            "PROCESSING_QUEUE_URL": self.queues["ProcessingQueue"],
            "PROCESSING_DLQ_URL": self.queues["ProcessingDeadLetterQueue"],
            "WEBHOOK_SECRETS_NAME": self.secrets["WebhookSecrets"],
            "RAW_PAYLOAD_BUCKET": self.buckets["RawPayloadBucket"],
        }


def _queue_order(queues: dict[str, dict[str, Any]]) -> list[str]:
    """Dead-letter targets before the queues that redrive into them."""

    def depth(logical_id: str) -> int:
        target = (queues[logical_id].get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        return 1 + depth(target["Fn::GetAtt"][0]) if isinstance(target, dict) else 0

    return sorted(queues, key=depth)


def provision(
    session: Any,
    *,
    prefix: str = "switchboard-local",
    secret_document: dict[str, Any] | None = None,
    template: dict[str, Any] | None = None,
) -> StackResources:
    template = template or load_template()
    created = StackResources(prefix=prefix)
    dynamodb, sqs = session.client("dynamodb"), session.client("sqs")

    for logical_id, props in resources_of_type(template, "AWS::DynamoDB::Table").items():
        name = f"{prefix}-{logical_id}"
        extra = {key: props[key] for key in _TABLE_KEYS if key in props}
        if (props.get("SSESpecification") or {}).get("SSEEnabled"):
            extra["SSESpecification"] = {"Enabled": True}  # CloudFormation and the API spell it differently
        dynamodb.create_table(TableName=name, **extra)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        created.tables[logical_id] = name

    s3 = session.client("s3")
    for logical_id, props in resources_of_type(template, "AWS::S3::Bucket").items():
        created.buckets[logical_id] = create_bucket(
            s3, f"{prefix}-{logical_id}".lower(), props, _parameter_defaults(template)
        )

    queues = resources_of_type(template, "AWS::SQS::Queue")
    for logical_id in _queue_order(queues):
        props = queues[logical_id]
        attributes = {
            key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
            for key in _QUEUE_ATTRIBUTES
            if key in props
        }
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": created.queue_arns[target],
                    "maxReceiveCount": redrive["maxReceiveCount"],
                }
            )
        url = sqs.create_queue(QueueName=f"{prefix}-{logical_id}", Attributes=attributes)["QueueUrl"]
        created.queues[logical_id] = url
        created.queue_arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    sns = session.client("sns")
    for logical_id in resources_of_type(template, "AWS::SNS::Topic"):
        created.topics[logical_id] = sns.create_topic(Name=f"{prefix}-{logical_id}")["TopicArn"]

    secretsmanager = session.client("secretsmanager")
    for logical_id, props in resources_of_type(template, "AWS::SecretsManager::Secret").items():
        value = (
            json.dumps(secret_document) if secret_document is not None else props.get("SecretString", "{}")
        )
        created.secrets[logical_id] = secretsmanager.create_secret(
            Name=f"{prefix}-{logical_id}", SecretString=value
        )["ARN"]

    ssm = session.client("ssm")
    for logical_id, props in resources_of_type(template, "AWS::SSM::Parameter").items():
        name = f"{prefix}-{logical_id}"
        ssm.put_parameter(Name=name, Value=str(props["Value"]), Type=props.get("Type", "String"))
        created.parameters[logical_id] = name
    return created


def _parameter_defaults(template: dict[str, Any]) -> dict[str, Any]:
    return {name: spec.get("Default") for name, spec in (template.get("Parameters") or {}).items()}


def create_bucket(s3: Any, name: str, props: dict[str, Any], parameters: dict[str, Any]) -> str:
    """A bucket with the template's encryption, public access block and lifecycle expiry (CloudFormation's
    `ExpirationInDays` spelled as the API's rule); its name. The TLS-only bucket policy needs no local
    twin: the local stack speaks plain HTTP to moto."""
    s3.create_bucket(Bucket=name)
    if "BucketEncryption" in props:
        rules = [  # CloudFormation's spelling -> the API's
            {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    lifecycle = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
    expiring = [rule for rule in (_expiration(rule, parameters) for rule in lifecycle) if rule]
    if expiring:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": expiring})
    return name


def _expiration(rule: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any] | None:
    """A CloudFormation expiry rule as the S3 API spells it; a `!Ref` takes the parameter's default."""
    days = rule.get("ExpirationInDays")
    if isinstance(days, dict):
        days = parameters.get(days.get("Ref", ""))
    if days is None:
        return None
    return {
        "ID": rule.get("Id", "expire"),
        "Status": rule.get("Status", "Enabled"),
        "Filter": {"Prefix": rule.get("Prefix", "")},
        "Expiration": {"Days": int(days)},
    }


ALERTS_INBOX = "alerts-inbox"


def alerts_inbox(session: Any, resources: StackResources) -> str:
    """An SQS queue subscribed to every topic of the template (AlertsTopic): where a deployed stack would
    e-mail an alert, the local stack keeps it for `switchboard alerts list`. Returns the queue URL."""
    sqs, sns = session.client("sqs"), session.client("sns")
    url = sqs.create_queue(QueueName=f"{resources.prefix}-{ALERTS_INBOX}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for topic_arn in resources.topics.values():
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)
