"""EMF -> CloudWatch on the local stack (switchboard_ops/local/emf.py): what a function prints as EMF is
extracted the way CloudWatch Logs extracts it, and the stdout tee finds whole lines per thread."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime
from typing import Any

from switchboard_ops.local.emf import EmfPublisher, EmfTee, metric_data

DOCUMENT: dict[str, Any] = {
    "_aws": {
        "Timestamp": 1796318001151,
        "CloudWatchMetrics": [
            {
                "Namespace": "Switchboard",
                "Dimensions": [["service", "provider"]],
                "Metrics": [{"Name": "CallbacksOverdue", "Unit": "Count"}],
            }
        ],
    },
    "service": "switchboard",
    "provider": "twilio",
    "CallbacksOverdue": [2.0, 3.0],
}


def test_each_value_becomes_a_datum_with_its_dimensions_unit_and_the_documents_time():
    [(namespace, data)] = metric_data(DOCUMENT)

    assert namespace == "Switchboard"
    assert [datum["Value"] for datum in data] == [2.0, 3.0]
    assert data[0]["Dimensions"] == [
        {"Name": "service", "Value": "switchboard"},
        {"Name": "provider", "Value": "twilio"},
    ]
    assert data[0]["Unit"] == "Count"
    assert data[0]["Timestamp"] == datetime(2026, 12, 3, 17, 13, 21, 151000, tzinfo=UTC)


def test_every_dimension_set_of_a_directive_gets_the_value():
    document = {**DOCUMENT, "CallbacksOverdue": 1}
    document["_aws"] = {
        **DOCUMENT["_aws"],
        "CloudWatchMetrics": [{**DOCUMENT["_aws"]["CloudWatchMetrics"][0], "Dimensions": [["service"], []]}],
    }

    [(_, data)] = metric_data(document)

    assert [datum["Dimensions"] for datum in data] == [[{"Name": "service", "Value": "switchboard"}], []]


def test_the_tee_passes_everything_through_and_hands_on_whole_emf_lines_only():
    out, found = io.StringIO(), list[str]()
    tee = EmfTee(out, found.append)
    line = json.dumps(DOCUMENT)

    tee.write('{"level":"INFO","message":"not a metric"}\n')
    tee.write(line[:40])
    tee.write(line[40:])
    tee.write("\n")

    assert found == [line]
    assert out.getvalue() == '{"level":"INFO","message":"not a metric"}\n' + line + "\n"


def test_threads_printing_at_once_keep_their_own_partial_lines():
    found: list[str] = []
    tee = EmfTee(io.StringIO(), found.append)
    lines = [json.dumps({**DOCUMENT, "provider": f"p{n}"}) for n in range(8)]
    ready = threading.Barrier(len(lines))

    def emit(line: str) -> None:
        ready.wait()
        for _ in range(20):
            tee.write(line[:30])
            tee.write(line[30:])
            tee.write("\n")

    threads = [threading.Thread(target=emit, args=(line,)) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(found) == sorted(lines * 20)


def test_a_sink_that_fails_never_breaks_the_print():
    def broken(line: str) -> None:
        raise RuntimeError("moto is gone")

    out = io.StringIO()
    tee = EmfTee(out, broken)

    assert tee.write(json.dumps(DOCUMENT) + "\n") > 0
    assert out.getvalue().startswith("{")


def test_a_put_that_fails_is_logged_not_raised():
    class Refusing:
        def put_metric_data(self, **kwargs: object) -> None:
            raise ConnectionError("refused")

    logged: list[str] = []
    publisher = EmfPublisher(Refusing(), log=logged.append)

    publisher.publish(json.dumps(DOCUMENT))

    assert publisher.published == 0
    assert len(logged) == 1 and "ConnectionError" in logged[0]
