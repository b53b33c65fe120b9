"""Figure 1: sends per second at a provider's rate limit, and the 429s it takes to get there.

The sandbox runs in-process with the provider's limit (OpenPhone: 10 requests/s, its published limit;
Twilio: a configured rate, 50/s = SenderFunction's TWILIO_RATE_PER_SECOND). A burst of N send requests
is put on the OutboundQueue (moto), then two poller threads drain it as the two-poller event source
would (MaximumConcurrency 2, BatchSize 5): receive, `Sender.handle` per record (the real send_openphone /
send_twilio over HTTP to the sandbox), delete what returned. Each poller has its own Sender built by
SenderFunction's `build_sender()` with SENDER_CONCURRENCY=2: two containers, each with half the limit.

- ours: that Sender, token buckets as wired;
- baseline: the same Sender with the token buckets taken out (a naive sender), the same burst, the same
  sandbox limit (the sandbox is reset between runs, so both start with the provider's bucket full).

sends/s = provider-accepted sends / (last acceptance - drain start). 429s are the sandbox's own count
(/sandbox/stats "rate_limited"). A 429 is SendUnavailable: SenderFunction records RETRY and hides the
message for 30 s+ (backoff), so a naive burst's 429'd sends are late by at least that, and a send that
meets three 429s is dead-lettered. Before each run both Senders make one warm-up send (clients, secrets,
the twilio SDK import), outside the timing; the sandbox is then reset.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from bench.ingest.common import CallCounter, Figure, progress, quiet_stdout
from bench.outbound.common import (
    OPENPHONE_NUMBER,
    SENDER_CONCURRENCY,
    TWILIO_NUMBER,
    PollerResult,
    Stack,
    Tally,
    build_sender,
    environment,
    limits_of,
    outbound_stack,
    poll_until_empty,
)

TARGET_SHARE = 0.95  # of the provider's limit
SENDERS = {"openphone": OPENPHONE_NUMBER, "twilio": TWILIO_NUMBER}


def burst_requests(provider: str, count: int, tag: str) -> list[str]:
    from switchboard.models.outbound import SendRequest

    return [
        SendRequest(
            send_key=f"bench-{tag}-{index}",
            provider=provider,
            sender=SENDERS[provider],
            recipient=f"+1312555{1000 + index % 9000:04d}",  # customers: no number the sandbox owns
            body=f"Your appointment is confirmed ({index})",
        ).model_dump_json()
        for index in range(count)
    ]


def _enqueue(sqs: Any, queue_url: str, bodies: list[str]) -> None:
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])
            ],
        )


def _warm_up(provider: str, senders: list[Any]) -> None:
    """First-call costs (boto3 clients, the secret, the twilio SDK) outside the timing."""
    from switchboard.models.outbound import SendRequest

    for sender in senders:
        sender.send(
            SendRequest.model_validate_json(burst_requests(provider, 1, f"warm-{uuid.uuid4().hex}")[0])
        )


def fresh_outbound_queue(stack: Stack, tag: str) -> str:
    """A new queue with the OutboundQueue's attributes (visibility, redrive to its DLQ) for one run: a
    naive run leaves 429'd messages hidden for their backoff, and PurgeQueue allows one call a minute."""
    sqs = stack.sqs
    template = sqs.get_queue_attributes(
        QueueUrl=stack.queue("OutboundQueue"), AttributeNames=["VisibilityTimeout", "RedrivePolicy"]
    )["Attributes"]
    name = f"{stack.queue('OutboundQueue').rsplit('/', 1)[-1]}-{tag}"
    return str(sqs.create_queue(QueueName=name, Attributes=template)["QueueUrl"])


def run_burst(
    stack: Stack, provider: str, burst: int, *, naive: bool, provider_latency_ms: int = 0
) -> dict[str, Any]:
    """Two pollers drain `burst` send requests for `provider`; what the sender and the sandbox saw.

    `provider_latency_ms`: every send waits that long at the sandbox before it is answered (and before
    the sandbox's rate limit looks at it): a provider's round trip, which loopback does not have.
    """
    tag = uuid.uuid4().hex[:8]
    queue_url = fresh_outbound_queue(stack, tag)
    sqs = stack.sqs
    tally = Tally()
    with environment(OUTBOUND_QUEUE_URL=queue_url):
        senders = [build_sender(tally, naive=naive) for _ in range(SENDER_CONCURRENCY)]
    _warm_up(provider, senders)
    time.sleep(1.0)  # each sender's own bucket refills (capacity 1)
    stack.sandbox.reset()  # provider buckets full, counts zero, no faults: both runs start alike
    if provider_latency_ms:
        path = "/v1/messages" if provider == "openphone" else "/2010-04-01/Accounts/*/Messages.json"
        stack.sandbox.add_faults(
            {"path": path, "method": "POST", "latency_ms": provider_latency_ms, "count": None}
        )
    tally.accepted_at.clear()
    tally.unavailable.clear()
    tally.other_errors.clear()
    _enqueue(sqs, queue_url, burst_requests(provider, burst, tag))

    results: list[PollerResult] = [PollerResult() for _ in senders]
    queue_lock = threading.Lock()
    ready = threading.Barrier(len(senders) + 1)

    def poller(index: int) -> None:
        ready.wait()
        results[index] = poll_until_empty(sqs, queue_url, senders[index].handle, queue_lock=queue_lock)

    threads = [threading.Thread(target=poller, args=(i,), name=f"poller-{i}") for i in range(len(senders))]
    for thread in threads:
        thread.start()
    with CallCounter() as calls:
        ready.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        ended = time.perf_counter()
    stack.sandbox.wait_idle(10)
    stats = stack.sandbox.stats()
    accepted = sorted(tally.accepted_at)
    records = sum(r.records for r in results)
    outcomes: dict[str, int] = {}
    raised: dict[str, int] = {}
    for result in results:
        for name, number in result.outcomes.items():
            outcomes[name] = outcomes.get(name, 0) + number
        for name, number in result.raised.items():
            raised[name] = raised.get(name, 0) + number
    span = (accepted[-1] - started) if accepted else ended - started
    steady = (len(accepted) - 1) / (accepted[-1] - accepted[0]) if len(accepted) > 1 else 0.0
    leftover = int(
        sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
    )
    return {
        "sender": "naive (no token bucket)" if naive else "switchboard (token buckets as wired)",
        "limits_per_sender": limits_of(senders[0]),
        "burst": burst,
        "provider_latency_ms": provider_latency_ms,
        "records_handled": records,
        "attempts_per_second": round(records / (ended - started), 2),
        "outcomes": outcomes,
        "raised": raised,
        "accepted": len(accepted),
        "accepted_share": len(accepted) / burst,
        "drain_seconds": round(ended - started, 3),
        "seconds_to_last_acceptance": round(span, 3),
        "sends_per_second": len(accepted) / span if span > 0 else 0.0,
        "steady_sends_per_second_first_to_last": round(steady, 3),
        "sandbox_429s": stats["rate_limited"],
        "sandbox_stats": {k: stats[k] for k in ("sent", "rate_limited", "callbacks", "callbacks_failed")},
        "sender_saw": {
            "unavailable": len(tally.unavailable),
            "rate_limited": tally.rate_limited,
            "other_errors": len(tally.other_errors),
            "first_errors": sorted(set(tally.unavailable + tally.other_errors))[:3],
        },
        "left_in_queue_for_retry": leftover,
        "aws_calls_per_record": round(calls.count / max(1, records), 2),
        "aws_calls_by_operation": calls.by_operation(),
    }


def measure(
    provider: str, rate: float, burst: int, *, naive: bool = True, provider_latency_ms: int = 0
) -> dict[str, Any]:
    """Ours (and the naive sender) against one sandbox whose `provider` limit is `rate` requests/s."""
    other = "twilio" if provider == "openphone" else "openphone"
    settings: dict[str, Any] = {f"{provider}_rate": rate, f"{other}_rate": 1000.0}
    with quiet_stdout(), outbound_stack(**settings) as stack:
        env = stack.sender_environment(
            twilio_rate=rate if provider == "twilio" else 50.0,
            openphone_rate=rate if provider == "openphone" else 10.0,
        )
        with environment(**env):
            measured = {
                "provider": provider,
                "limit_per_second": rate,
                "ours": run_burst(
                    stack, provider, burst, naive=False, provider_latency_ms=provider_latency_ms
                ),
            }
            if naive:
                measured["naive"] = run_burst(
                    stack, provider, burst, naive=True, provider_latency_ms=provider_latency_ms
                )
    return measured


def figures_for(provider: str, rate: float, burst: int) -> list[Figure]:
    """sends/s at the limit (vs the limit), 429s (vs the naive sender), first-attempt share (vs it too)."""
    progress(
        f"{provider}: burst of {burst} sends, 2 pollers x BatchSize 5, sandbox limit {rate:g}/s "
        f"(Sender as wired, then without its token buckets)"
    )
    measured = measure(provider, rate, burst)
    ours, naive = measured["ours"], measured["naive"]
    label = {"openphone": "OpenPhone", "twilio": "Twilio"}[provider]
    limit_name = (
        "OpenPhone's limit (sandbox: 10 requests/s)"
        if provider == "openphone"
        else f"Twilio rate configured in the sandbox ({rate:g} requests/s)"
    )
    method = (
        f"{burst} send requests on the OutboundQueue (moto); 2 poller threads, each its own Sender from "
        f"build_sender() (SENDER_CONCURRENCY=2), BatchSize 5; real send_{provider} over HTTP to the "
        f"in-process sandbox; sends/s = accepted / (last acceptance - drain start)"
    )
    ratio_ok = ours["sends_per_second"] >= TARGET_SHARE * rate
    return [
        Figure(
            key=f"sends_per_second.{provider}",
            title=f"{label} sends/s at the provider limit (0 429s)",
            unit="sends/s",
            ours=round(ours["sends_per_second"], 2),
            baseline=rate,
            baseline_name=limit_name,
            target=f"ratio >= {TARGET_SHARE} and 0 429s",
            passed=ratio_ok and ours["sandbox_429s"] == 0,
            detail={"method": method, "ours": ours, "naive": naive},
        ),
        Figure(
            key=f"rate_limited.{provider}",
            title=f"{label} 429s over the burst",
            unit="429s",
            ours=ours["sandbox_429s"],
            baseline=naive["sandbox_429s"],
            baseline_name="naive sender: same Sender and transport, no token bucket",
            target="ours = 0",
            passed=ours["sandbox_429s"] == 0,
            detail={
                "ours_sends_per_second": round(ours["sends_per_second"], 2),
                "naive_accepted_sends_per_second": round(naive["sends_per_second"], 2),
                "naive_accepted_share": round(naive["accepted_share"], 3),
                "naive_left_for_retry_30s_later": naive["left_in_queue_for_retry"],
                "naive_attempts_per_second": naive["attempts_per_second"],
            },
        ),
        Figure(
            key=f"first_attempt_share.{provider}",
            title=f"{label} sends accepted on the first attempt",
            unit="%",
            ours=round(100 * ours["accepted_share"], 1),
            baseline=round(100 * naive["accepted_share"], 1),
            baseline_name="naive sender: same Sender and transport, no token bucket",
            target="ours = 100",
            passed=ours["accepted"] == ours["burst"],
            detail={
                "naive_accepted_sends_per_second": round(naive["sends_per_second"], 2),
                "naive_drain_seconds": naive["drain_seconds"],
                "ours_drain_seconds": ours["drain_seconds"],
            },
        ),
    ]


def latency_figure(quick: bool, latency_ms: int = 250) -> list[Figure]:
    """Informational: OpenPhone at its limit when each send takes `latency_ms` at the provider.

    Each container sends one message at a time, so it cannot exceed 1 / (provider round trip + its own
    AWS bookkeeping) sends/s, whatever its bucket allows (OpenPhone: 5/s per container = 200 ms each).
    """
    rate, burst = 10.0, 20 if quick else 60
    progress(f"openphone with {latency_ms} ms provider latency: burst of {burst}, ours only")
    ours = measure("openphone", rate, burst, naive=False, provider_latency_ms=latency_ms)["ours"]
    return [
        Figure(
            key="sends_per_second.openphone_provider_latency",
            title=f"OpenPhone sends/s, {latency_ms} ms provider round trip",
            unit="sends/s",
            ours=round(ours["sends_per_second"], 2),
            baseline=rate,
            baseline_name="OpenPhone's limit (sandbox: 10 requests/s)",
            target="info: 2 serial senders",
            passed=None,
            detail={
                "method": f"as the OpenPhone figure, with a sandbox latency fault of {latency_ms} ms on"
                " every POST /v1/messages (the loopback sandbox answers in ~3 ms; a real API over TLS"
                " does not)",
                "per_container_ceiling_sends_per_second": round(1000 / latency_ms, 2),
                "ours": ours,
            },
        )
    ]
