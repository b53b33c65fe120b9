"""WorkerFunction with an LLM classifier: moto for AWS, the sandbox over loopback HTTP for the model
(Bedrock Converse through boto3's endpoint_url, or chat completions with the secret's key)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_worker import ingest_sample, run_worker_once  # same directory: pytest puts it on sys.path

from switchboard.container import forget_per_container
from switchboard.dal.ai_usage import AiUsageRecords, day_of
from switchboard.dal.aws import client
from switchboard.dal.items import from_item
from switchboard_ops.sandbox import Sandbox

PROVIDERS = {
    "bedrock": {"LLM_PROVIDER": "bedrock", "LLM_MODEL": "us.amazon.nova-micro-v1:0"},
    "openai": {"LLM_PROVIDER": "openai", "LLM_MODEL": "gpt-4o-mini"},
}


@pytest.fixture(scope="module")
def llm_box() -> Iterator[Sandbox]:
    with Sandbox("http://127.0.0.1:9") as box:
        yield box


@pytest.fixture(params=sorted(PROVIDERS))
def llm_on(request, stack, llm_box, monkeypatch) -> Iterator[str]:
    """The worker wired to one LLM provider, both pointed at the sandbox (only the base URL differs)."""
    llm_box.reset()
    for name, value in PROVIDERS[request.param].items():
        monkeypatch.setenv(name, value)
    base = llm_box.url if request.param == "bedrock" else f"{llm_box.url}/v1"
    monkeypatch.setenv("LLM_BASE_URL", base)
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "1")
    forget_per_container()
    yield request.param


def stored_message(dynamodb: Any, stack: Any, provider: str) -> dict[str, Any]:
    items = dynamodb.scan(TableName=stack.tables["EventsTable"])["Items"]
    messages = [from_item(item) for item in items]
    return next(m for m in messages if m.get("provider") == provider and m["sk"] == "MESSAGE")


def usage_today(stack: Any, feature: str | None = "sentiment.classify") -> list[dict[str, Any]]:
    """Today's usage records (of one feature; None: all of them)."""
    import time

    calls = AiUsageRecords(stack.tables["EventsTable"]).calls_on(day_of(time.time()))
    return [call for call in calls if feature is None or call["feature"] == feature]


def test_an_email_reply_is_classified_by_the_model_and_the_call_recorded(
    llm_on, stack, dynamodb, sqs, lambda_context, llm_box
):
    # Given an Instantly reply (with its quoted thread) ingested while the LLM is on
    ingest_sample("instantly_reply_received", lambda_context)
    # When the worker processes it
    result = run_worker_once(sqs, stack, lambda_context)
    # Then the model's intent is stored, with no fallback
    assert result["batchItemFailures"] == []
    message = stored_message(dynamodb, stack, "instantly")
    assert (message["intent"], message["classifier"]) == ("Meeting Requested", "llm")
    assert "classifier_fallback" not in message
    # And one usage record names the feature, model, tokens, cost and the job it served
    [call] = usage_today(stack)
    assert call["feature"] == "sentiment.classify" and call["outcome"] == "ok"
    assert call["model"] == PROVIDERS[llm_on]["LLM_MODEL"] and call["job_pk"] == message["pk"]
    assert call["input_tokens"] > 0 and call["output_tokens"] > 0 and call["cost_usd"] > 0
    assert llm_box.stats()["llm_calls"] == 3  # classify, then the draft's strategy and generation


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [({"status": 503}, "unavailable"), ({"timeout_ms": 3000}, "timeout"), (None, "malformed")],
)
def test_the_rules_answer_when_the_model_fails_and_the_fallback_is_recorded(
    llm_on, stack, dynamodb, sqs, lambda_context, llm_box, fault, outcome
):
    # Given a model that errs, hangs past the 1 s timeout, or answers outside the schema
    path = "/model/" if llm_on == "bedrock" else "/v1/chat/completions"
    if fault:
        llm_box.add_faults({"path": path, **fault})
    else:
        llm_box.configure(llm_answer="off_schema")
    ingest_sample("instantly_reply_received", lambda_context)
    # When the worker processes the reply
    result = run_worker_once(sqs, stack, lambda_context)
    # Then the job still finishes, classified by the rules, saying why
    assert result["batchItemFailures"] == []
    message = stored_message(dynamodb, stack, "instantly")
    assert (message["job_state"], message["intent"]) == ("PROCESSED", "Meeting Requested")
    assert (message["classifier"], message["classifier_fallback"]) == ("rules", outcome)
    # And the failed call is recorded as such
    [call] = usage_today(stack)
    assert (call["outcome"], call["feature"]) == (outcome, "sentiment.classify")


def test_a_wrong_api_key_falls_back_as_rejected(stack, dynamodb, sqs, lambda_context, llm_box, monkeypatch):
    # Given chat completions with a key the endpoint refuses (the secret holds another one)
    sm = client("secretsmanager")
    llm_box.reset()
    for name, value in PROVIDERS["openai"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LLM_BASE_URL", f"{llm_box.url}/v1")
    secrets = json.loads(sm.get_secret_value(SecretId=stack.secrets["WebhookSecrets"])["SecretString"])
    secrets["llm"] = {"api_key": "sk-wrong"}
    sm.put_secret_value(SecretId=stack.secrets["WebhookSecrets"], SecretString=json.dumps(secrets))
    forget_per_container()
    ingest_sample("instantly_reply_received", lambda_context)
    # When processed / Then the rules classify, and the reason is "rejected"
    run_worker_once(sqs, stack, lambda_context)
    assert stored_message(dynamodb, stack, "instantly")["classifier_fallback"] == "rejected"


def ai_metrics(output: str) -> dict[tuple[str, str], float]:
    """(metric name, feature) -> value, from the Powertools EMF documents printed to stdout."""
    import json

    found: dict[tuple[str, str], float] = {}
    for line in output.splitlines():
        if '"_aws"' in line and '"feature"' in line:
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = document[metric["Name"]]  # a list when several values share a document
                    found[(metric["Name"], document["feature"])] = (
                        sum(value) if isinstance(value, list) else value
                    )
    return found


def test_each_model_call_is_counted_in_metrics_by_feature(
    llm_on, stack, sqs, lambda_context, llm_box, capsys
):
    # Given a model that answers off-schema (a failed call that still cost tokens)
    llm_box.configure(llm_answer="off_schema")
    ingest_sample("instantly_reply_received", lambda_context)
    capsys.readouterr()
    # When the worker processes the reply
    run_worker_once(sqs, stack, lambda_context)
    # Then AICalls, AIFailures, AITokens and AICost are published for sentiment.classify
    metrics = ai_metrics(capsys.readouterr().out)
    feature = "sentiment.classify"
    assert metrics[("AICalls", feature)] == 1 and metrics[("AIFailures", feature)] == 1
    assert metrics[("AITokens", feature)] > 0 and metrics[("AICost", feature)] > 0


def test_usage_records_ride_in_the_jobs_commit_and_add_no_aws_request(
    llm_on, stack, dynamodb, sqs, lambda_context, llm_box
):
    # Given an e-mail reply whose job makes one model call, and every DynamoDB request counted
    ingest_sample("instantly_reply_received", lambda_context)
    requests: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb", lambda model, **kwargs: requests.append(model.name))
    # When the worker processes it
    run_worker_once(sqs, stack, lambda_context)
    # Then the claim, the draft's one conversation Query and the one commit transaction are all: the
    # usage records are inside the transaction
    assert requests == ["UpdateItem", "Query", "TransactWriteItems"]
