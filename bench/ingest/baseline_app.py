"""The baseline: the Twilio ingest handler as a Powertools user would write it.

An `APIGatewayHttpResolver` route `POST /webhooks/twilio`; the same twilio `RequestValidator` check over
the same public URL and the same Secrets Manager document (cached 300 s, like ours); then a function
decorated with Powertools `@idempotent_function` (DynamoDBPersistenceLayer on its own idempotency table,
keyed on the MessageSid) that puts the message item and sends the SQS message. Same Logger, Metrics and
Tracer set-up as IngestFunction, so the comparison is about the design, not about observability.

Deliberately favourable to the baseline: one client per service, shared with the persistence layer and
the secrets provider (Powertools' defaults would create a second DynamoDB client).

Loaded by file, like functions/ingest/app.py: module-level clients and names from the environment.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, cast
from urllib.parse import parse_qsl

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeSerializer
from twilio.request_validator import RequestValidator

logger = Logger(service="baseline")
metrics = Metrics(namespace="SwitchboardBaseline", service="baseline")
tracer = Tracer(service="baseline")
app = APIGatewayHttpResolver()

MESSAGES_TABLE = os.environ["BASELINE_MESSAGES_TABLE"]
QUEUE_URL = os.environ["BASELINE_QUEUE_URL"]
SECRETS_NAME = os.environ["WEBHOOK_SECRETS_NAME"]

dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
secrets = SecretsProvider(boto3_client=boto3.client("secretsmanager"))
serializer = TypeSerializer()

persistence = DynamoDBPersistenceLayer(
    table_name=os.environ["BASELINE_IDEMPOTENCY_TABLE"], boto3_client=dynamodb
)
idempotency = IdempotencyConfig(event_key_jmespath="MessageSid", expires_after_seconds=3600)


def _error(status: int, error: str) -> Response:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps({"error": error})
    )


@idempotent_function(data_keyword_argument="message", config=idempotency, persistence_store=persistence)
def store_and_enqueue(message: dict[str, str]) -> dict[str, Any]:
    sid = message["MessageSid"]
    item = {"pk": f"MSG#{sid}", **message, "received_at": int(time.time() * 1000), "job_state": "RECEIVED"}
    dynamodb.put_item(
        TableName=MESSAGES_TABLE, Item={key: serializer.serialize(value) for key, value in item.items()}
    )
    sqs.send_message(
        QueueUrl=QUEUE_URL,
        MessageBody=json.dumps({"pk": item["pk"], "provider": "twilio", "provider_message_id": sid}),
        MessageAttributes={"provider": {"DataType": "String", "StringValue": "twilio"}},
    )
    return {"outcome": "stored", "provider": "twilio", "provider_message_id": sid}


@app.post("/webhooks/twilio")
def twilio_webhook() -> Any:
    event = app.current_event
    headers = {key.lower(): value for key, value in (event.headers or {}).items()}
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    url = f"{scheme}://{headers.get('host', '')}{event.raw_path}"
    if event.raw_query_string:
        url = f"{url}?{event.raw_query_string}"
    params = dict(parse_qsl(event.decoded_body or "", keep_blank_values=True))

    # transform="json" gives the parsed document; get()'s declared return also covers the untransformed kinds
    webhook_secrets = cast(dict[str, Any], secrets.get(SECRETS_NAME, max_age=300, transform="json"))
    auth_token = webhook_secrets["twilio"]["auth_token"]
    if not RequestValidator(auth_token).validate(url, params, headers.get("x-twilio-signature", "")):
        logger.warning("invalid Twilio signature")
        metrics.add_metric(name="SignatureRejected", unit=MetricUnit.Count, value=1)
        return _error(401, "invalid_signature")
    if not params.get("MessageSid"):
        return _error(400, "malformed_payload")

    result = store_and_enqueue(message=params)
    logger.info("webhook stored", provider_message_id=params["MessageSid"])
    metrics.add_metric(name="WebhooksReceived", unit=MetricUnit.Count, value=1)
    return result


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
