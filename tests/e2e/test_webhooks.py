"""Webhooks over real HTTP into `switchboard local up`, checked with the `switchboard` CLI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from switchboard.services.processing.backoff import QUEUE_MAX_RECEIVES
from switchboard_ops.local.samples import Sample, load_sample, payload_names

pytestmark = pytest.mark.e2e

SAMPLES = payload_names()  # whatever events/payloads/*.json exist when the tests are collected
# Routes whose signature covers the body: a changed body must fail verification. (Unipile, SmartLead and
# Instantly send a shared secret instead: for them, see the wrong-secret test.)
BODY_SIGNED_ROUTES = frozenset({"twilio", "twilio/status", "openphone", "ghl"})


def post_sample(stack: Any, sample: Sample, **kwargs: Any) -> requests.Response:
    """Post a sample re-signed (and, for GHL, re-timed) for the live stack's URL and the current time."""
    return stack.post(sample, **kwargs)


def accepted(stack: Any, sample: Sample) -> dict[str, Any]:
    response = post_sample(stack, sample)
    assert response.status_code == 200, f"{sample.name}: {response.status_code} {response.text}"
    return response.json()


def fresh_id(message_id: str) -> str:
    """Same length and shape as a provider id, but never seen before."""
    suffix = uuid.uuid4().hex[:8]
    return message_id[: -len(suffix)] + suffix if len(message_id) > len(suffix) else message_id + suffix


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_is_accepted_and_then_found_by_the_cli(live_stack, name):
    # Given a provider sample, signed for the live URL at the current time
    sample = load_sample(name)

    # When it is posted to the local stack
    result = accepted(live_stack, sample)

    # Then it is acknowledged, and `switchboard messages get` finds what was stored
    assert result["outcome"] in ("stored", "duplicate", "ignored"), result
    if result["outcome"] == "ignored":
        assert "provider_message_id" not in result
        return
    found = live_stack.message(result["provider"], result["provider_message_id"])
    assert found is not None, f"{name} was acknowledged but is not stored"
    if result["kind"] == "message":
        assert found["message"]["provider_message_id"] == result["provider_message_id"]
    else:
        assert found["statuses"], f"{name}: no status record under {found['pk']}"
        assert all(status["sk"].startswith("STATUS#") for status in found["statuses"])


@pytest.mark.parametrize("name", SAMPLES)
def test_the_same_webhook_twice_is_a_duplicate_with_one_record(live_stack, name):
    # Given a sample posted once
    sample = load_sample(name)
    first = accepted(live_stack, sample)
    if first["outcome"] == "ignored":
        pytest.skip(f"{name} is an event type ingest ignores")

    # When the provider sends it again (a retry)
    second = accepted(live_stack, sample)

    # Then the second says duplicate, and exactly one record exists for it
    assert second["outcome"] == "duplicate", second
    found = live_stack.message(first["provider"], first["provider_message_id"])
    assert found is not None
    if first["kind"] == "message":
        assert found["message"] is not None
    else:
        sort_keys = [status["sk"] for status in found["statuses"]]
        assert len(sort_keys) == len(set(sort_keys)), sort_keys


@pytest.mark.parametrize("name", [name for name in SAMPLES if load_sample(name).route in BODY_SIGNED_ROUTES])
def test_a_tampered_body_is_rejected_with_401_and_nothing_is_stored(live_stack, name):
    # Given a sample with a never-seen message id, signed, and then changed in transit
    sample = load_sample(name)
    known = accepted(live_stack, sample)
    message_id = known.get("provider_message_id")
    if not message_id or message_id.encode() not in sample.body:
        pytest.skip(f"{name}: its message id does not appear literally in the body")
    signed_id, tampered_id = fresh_id(message_id), fresh_id(message_id)
    signed_body = sample.body.replace(message_id.encode(), signed_id.encode())
    tampered = signed_body.replace(signed_id.encode(), tampered_id.encode())

    # When it is posted
    response = post_sample(live_stack, sample, signed_body=signed_body, body=tampered)

    # Then 401 with a JSON error, and neither id is stored
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "invalid_signature"
    assert live_stack.message(known["provider"], tampered_id) is None
    assert live_stack.message(known["provider"], signed_id) is None


@pytest.mark.parametrize("name", SAMPLES)
def test_a_wrong_secret_is_rejected_with_401_and_nothing_is_stored(live_stack, name):
    # Given a sample with a never-seen id, signed with secrets that are not the stack's
    sample = load_sample(name)
    known = accepted(live_stack, sample)
    message_id = known.get("provider_message_id")
    if not message_id or message_id.encode() not in sample.body:
        pytest.skip(f"{name}: its message id does not appear literally in the body")
    wrong = {
        # A prefix, 8 base64 characters long: lenient base64 decoding would ignore a "-wrong" suffix.
        provider: {key: f"wrongkey{value}" for key, value in values.items()}
        for provider, values in live_stack.state["secrets"].items()
    }
    new_id = fresh_id(message_id)
    body = sample.body.replace(message_id.encode(), new_id.encode())
    try:
        right_headers = sample.signed(live_stack.api_url, secrets=live_stack.state["secrets"], now=0)[1]
        wrong_headers = sample.signed(live_stack.api_url, secrets=wrong, now=0)[1]
    except ValueError as unusable:  # a mangled key (a PEM) cannot sign at all
        pytest.skip(f"{name}: a wrong key of this kind cannot sign ({unusable})")
    if right_headers == wrong_headers:
        pytest.skip(f"{name}: the secret travels in the body, not in a header")

    # When it is posted
    response = post_sample(live_stack, sample, signed_body=body, secrets=wrong)

    # Then 401, and nothing is stored under the new id
    assert response.status_code == 401, response.text
    assert response.json()["error"] in ("invalid_signature", "route_not_configured")
    assert live_stack.message(known["provider"], new_id) is None


@pytest.mark.parametrize("path", ["/webhooks/nosuchprovider", "/webhooks/twilio/nosuchroute"])
def test_an_unknown_provider_gets_404_json_from_the_handler(live_stack, path):
    # Given a path under the greedy /webhooks/{provider+} route that names no provider
    # When something posts to it
    response = requests.post(
        live_stack.api_url + path, data=b"a=b", headers={"content-type": "text/plain"}, timeout=30
    )

    # Then IngestFunction itself answers 404 with its JSON error (it got the route via pathParameters)
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_provider"
    assert path.removeprefix("/webhooks/") in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/webhooks/twilio"), ("POST", "/"), ("POST", "/hooks/x")]
)
def test_requests_no_route_matches_get_the_gateway_404(live_stack, method, path):
    # Given a method or path the template declares no route for
    # When it is requested
    response = requests.request(method, live_stack.api_url + path, timeout=30)

    # Then the gateway answers, as API Gateway does, without calling a function
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


@pytest.mark.parametrize(
    ("request_head", "status", "message"),
    [
        (b"FOO /webhooks/twilio HTTP/1.1\r\nHost: {host}\r\n", 404, "Not Found"),
        (b"POST /webhooks/twilio HTTP/1.1\r\nHost: bad host\r\n", 400, "Bad Request"),
        (b"POST /webhooks/twilio HTTP/1.1\r\nHost: {host}\r\nHost: {host}\r\n", 400, "Bad Request"),
    ],
    ids=["unknown-method", "host-with-a-space", "two-hosts"],
)
def test_the_live_api_answers_unknown_methods_and_bad_hosts_in_the_gateways_json(
    live_stack, request_head, status, message
):
    # Given raw HTTP no client library would send
    host, port = urlsplit(live_stack.api_url).netloc.rsplit(":", 1)
    raw = request_head.replace(b"{host}", f"{host}:{port}".encode()) + b"Content-Length: 0\r\n\r\n"

    # When it reaches the local API's socket
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(raw)
        connection.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: connection.recv(65536), b""))

    # Then the gateway answers with its status and JSON message
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == str(status).encode()
    assert json.loads(body) == {"message": message}


def test_a_body_over_10_mb_gets_413_from_the_gateway(live_stack):
    # Given a request body above API Gateway's 10 MB limit
    body = b"x" * (10 * 1024 * 1024 + 1)

    # When it is posted
    response = requests.post(
        f"{live_stack.api_url}/webhooks/twilio", data=body, headers={"content-type": "text/plain"}, timeout=60
    )

    # Then 413 from the gateway itself
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}


def test_every_job_the_webhooks_enqueued_is_processed_and_status_shows_the_queues(live_stack):
    # Given webhooks posted in this session, and one more now (the first sample the stack accepts)
    for name in SAMPLES:
        try:
            if live_stack.post(load_sample(name)).status_code == 200:
                break
        except (ModuleNotFoundError, KeyError):
            continue
    plain = sorted(key for key, faulty in live_stack.jobs.items() if not faulty)
    assert plain, "no webhook was enqueued in this session"

    # When the polling worker has had its turn
    # Then every job ingest enqueued (without an injected fault) is PROCESSED, in one attempt or more
    deadline = time.monotonic() + 30
    for provider, message_id in plain:
        found = live_stack.wait_for_message(
            provider,
            message_id,
            lambda found: found["job_state"] == "PROCESSED",
            timeout=max(1.0, deadline - time.monotonic()),
            what="PROCESSED",
        )
        assert found["attempts"] >= 1 and found["last_error"] is None

    # And `switchboard status --json` shows the queues, the dead-letter queue flagged
    result = live_stack.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    queue = status["queues"]["ProcessingQueue"]
    assert queue["dead_letter"] is False and queue["redrive_to"] == "ProcessingDeadLetterQueue"
    assert queue["max_receive_count"] == QUEUE_MAX_RECEIVES
    assert status["queues"]["ProcessingDeadLetterQueue"]["dead_letter"] is True
    assert status["table"] == live_stack.state["table_name"]
    assert set(status["topics"]) == {"AlertsTopic"} and set(status["secrets"]) == {"WebhookSecrets"}


def test_status_prints_a_table_for_people(live_stack):
    result = live_stack.cli("status")

    assert result.returncode == 0, result.stderr
    assert "ProcessingQueue" in result.stdout and "DLQ" in result.stdout
    assert "VISIBLE" in result.stdout and "IN FLIGHT" in result.stdout and "DELAYED" in result.stdout


def test_messages_get_for_a_missing_id_exits_1_with_a_json_error(live_stack):
    # Given an id nothing was stored under
    # When `switchboard messages get` asks for it
    result = live_stack.cli("messages", "get", "--provider", "twilio", "--id", "SM-never-stored")

    # Then exit 1, a JSON error on stderr, nothing on stdout
    assert result.returncode == 1
    assert result.stdout == ""
    assert json.loads(result.stderr)["error"] == "not_found"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.skipif("twilio_inbound_sms" not in SAMPLES, reason="no twilio_inbound_sms sample")
def test_the_readme_curl_command_posts_a_signed_sample(live_stack):
    # Given the command the README shows
    command = 'eval "$(switchboard local curl twilio_inbound_sms)"'
    venv_bin = Path(sys.executable).parent  # where the `switchboard` console script is installed
    env = {**live_stack.env, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}

    # When a shell runs it
    bash = shutil.which("bash") or "/bin/bash"
    result = subprocess.run(  # noqa: S603 - bash running our own CLI's output
        [bash, "-c", command], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    # Then curl got the handler's 200 JSON
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["provider_message_id"] == "SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8"
    assert response["outcome"] in ("stored", "duplicate")
    if response.get("enqueued"):
        live_stack.enqueued += 1
        live_stack.jobs.setdefault((response["provider"], response["provider_message_id"]), False)


def test_a_255_kib_webhook_is_stored_processed_and_read_back_whole(live_stack):
    # Given a signed 255 KiB Twilio SMS whose text does not compress (its raw payload goes to S3)
    import random
    import string

    from switchboard_ops.local.samples import with_changes

    base = with_changes(load_sample("twilio_inbound_sms"), body="x")
    text = "".join(random.Random(5).choices(string.ascii_letters, k=255 * 1024 - len(base.body) + 1))
    sample = with_changes(load_sample("twilio_inbound_sms"), body=text)

    # When it is posted to the local stack
    result = accepted(live_stack, sample)

    # Then it is stored and processed, and `messages get` shows its whole raw payload from the bucket
    assert result["outcome"] == "stored", result
    found = live_stack.wait_for_message(
        "twilio",
        result["provider_message_id"],
        lambda found: found["job_state"] == "PROCESSED",
        timeout=30,
        what="processed",
    )
    assert found["message"]["raw_s3"].startswith("s3://")
    assert json.loads(found["message"]["raw"])["Body"] == text
