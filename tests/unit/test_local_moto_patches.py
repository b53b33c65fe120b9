"""The local stack runs its moto server with all four moto_patches corrections, unless
SWITCHBOARD_MOTO_AS_SHIPPED=1; they are left when the server stops. No server is started here."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.cloudwatch.models import Dimension
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.sqs.models import Queue, SQSBackend

from switchboard_ops.local import moto_patches, stack

AS_SHIPPED = {
    "transact": DynamoDBBackend.transact_write_items,
    "call_action": DynamoHandler.call_action,
    "send": SQSBackend.send_message,
    "count": Queue.approximate_number_of_messages,
    "query": Table.query,
    "all_items": Table.all_items,
    "dimension_lt": Dimension.__lt__,
}


def patched() -> dict[str, bool]:
    return {
        "per_item_rollback": DynamoDBBackend.transact_write_items is not AS_SHIPPED["transact"]
        and DynamoHandler.call_action is not AS_SHIPPED["call_action"],
        "constant_time_sends": SQSBackend.send_message is not AS_SHIPPED["send"]
        and Queue.approximate_number_of_messages is not AS_SHIPPED["count"],
        "index_queries_read_the_index": Table.query is not AS_SHIPPED["query"]
        and Table.all_items is not AS_SHIPPED["all_items"],
        "dimension_order": Dimension.__lt__ is not AS_SHIPPED["dimension_lt"],
    }


NEITHER = dict.fromkeys(
    ("per_item_rollback", "constant_time_sends", "index_queries_read_the_index", "dimension_order"), False
)
BOTH = dict.fromkeys(NEITHER, True)  # every patch


class FakeServer:
    """Stands in for moto.server.ThreadedMotoServer: records which patches are active when it starts."""

    seen: list[dict[str, bool]] = []

    def __init__(self, **kwargs: Any) -> None:
        pass

    def start(self) -> None:
        FakeServer.seen.append(patched())

    def get_host_and_port(self) -> tuple[str, int]:
        return "127.0.0.1", 4566

    def stop(self) -> None:
        FakeServer.seen.append(patched())


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, bool]]:
    import moto.server

    monkeypatch.setattr(moto.server, "ThreadedMotoServer", FakeServer)
    FakeServer.seen = []
    return FakeServer.seen


@pytest.mark.parametrize("setting", [None, "", "0"])
def test_the_stack_starts_moto_with_both_patches_and_leaves_them_when_it_stops(
    setting, fake_server, monkeypatch
):
    if setting is None:
        monkeypatch.delenv(moto_patches.AS_SHIPPED_ENV, raising=False)
    else:
        monkeypatch.setenv(moto_patches.AS_SHIPPED_ENV, setting)

    moto = stack._Moto("127.0.0.1", 0, request_log=False)
    moto.stop()

    assert fake_server == [BOTH, BOTH]  # at start, and still while the server stops
    assert patched() == NEITHER


def test_switchboard_moto_as_shipped_1_starts_moto_as_shipped(fake_server, monkeypatch):
    monkeypatch.setenv(moto_patches.AS_SHIPPED_ENV, "1")

    moto = stack._Moto("127.0.0.1", 0, request_log=False)
    moto.stop()

    assert fake_server == [NEITHER, NEITHER]


def test_a_server_that_fails_to_start_leaves_no_patch_behind(monkeypatch):
    import moto.server

    class Broken(FakeServer):
        def start(self) -> None:
            raise OSError("no")

    monkeypatch.setattr(moto.server, "ThreadedMotoServer", Broken)
    monkeypatch.delenv(moto_patches.AS_SHIPPED_ENV, raising=False)

    with pytest.raises(OSError):
        stack._Moto("127.0.0.1", 0, request_log=False)

    assert patched() == NEITHER


def test_the_patches_are_undone_in_full_when_left():
    from moto.dynamodb import models

    copy_module = models.copy
    with moto_patches.local_stack_patches({}):
        assert patched() == BOTH
        assert models.copy is not copy_module
    assert patched() == NEITHER
    assert models.copy is copy_module


@pytest.mark.parametrize("environ", [{}, {moto_patches.AS_SHIPPED_ENV: "1"}], ids=["patched", "as shipped"])
def test_the_local_stack_refuses_what_sqs_refuses_even_as_shipped(environ):
    with mock_aws(), moto_patches.local_stack_patches(environ):
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        with pytest.raises(ClientError) as refused:
            sqs.send_message(QueueUrl=url, MessageBody="\uffff")

    assert refused.value.response["Error"]["Code"] == "InvalidMessageContents"
