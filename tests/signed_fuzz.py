"""Correctly signed fuzz: a route's sample with one field (or key) replaced, then signed as its provider
signs it. Values: lengths around every canonical model's max_length (an over-long id was a 500) and any
code point, lone surrogates included (JSON `\\ud800` escapes and invalid percent-encoded UTF-8 were 503
forever). Used by the ingest's and the worker's fuzz tests."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from hypothesis import strategies as st

from switchboard_ops.local.apigw import http_api_event


def _max_lengths() -> list[int]:
    from switchboard.models import Message, StatusUpdate

    return sorted(
        {
            length
            for model in (Message, StatusUpdate)
            for field in model.model_fields.values()
            for rule in field.metadata
            if (length := getattr(rule, "max_length", None)) is not None
        }
    )


FIELD_LENGTHS = sorted({0, 1, *(n + step for n in _max_lengths() for step in (-1, 0, 1))})
any_code_point = st.characters(exclude_categories=())  # () lets in Cs: surrogates are the point
field_values = st.one_of(
    st.text(any_code_point, max_size=24),
    st.builds(lambda n, c: (c * n)[:n], st.sampled_from(FIELD_LENGTHS), st.text(any_code_point, min_size=1)),
)


def payload_names() -> list[str]:
    from switchboard_ops.local.samples import payload_names as names

    return names()


def signed_mutation(sample_name: str, data: st.DataObject, value: str) -> dict[str, Any]:
    """The API Gateway event of the sample under a never-seen message id (else every example after the
    first is a duplicate of it) with one drawn field or key set to `value`, signed for now."""
    from switchboard_ops.local.samples import load_sample, with_changes
    from switchboard_ops.local.signing import signed_headers

    sample = load_sample(sample_name)
    with contextlib.suppress(ValueError):  # an id not literally in the body (a composite key): duplicates
        sample = with_changes(sample, new_id=True)
    now = time.time()
    url, _, body = sample.signed("http://127.0.0.1:3000", now=now)
    leaf = data.draw(st.sampled_from(_leaves(sample.content_type, body)), label="field")
    body = _mutated_body(sample.content_type, body, leaf, value)
    headers = signed_headers(sample.route, url, body, sample.content_type, now=now, extra=sample.headers)
    return http_api_event(url, body, headers)


def _json_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every string value, and ("key", path) for every dict key, of a JSON document."""
    if isinstance(value, dict):
        found = [("key", *path, key) for key in value]
        for key, item in value.items():
            found += _json_leaves(item, (*path, key))
        return found
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _json_leaves(item, (*path, index))]
    return [("value", *path)] if isinstance(value, str) else []


def _replaced(document: Any, leaf: tuple[Any, ...], new: str) -> Any:
    kind, *path = leaf
    if len(path) == 1:
        if kind == "key":
            return {new if key == path[0] else key: item for key, item in document.items()}
        return _replace_at(document, path[0], new)
    return _replace_at(document, path[0], _replaced(document[path[0]], (kind, *path[1:]), new))


def _replace_at(container: Any, key: Any, new: Any) -> Any:
    if isinstance(container, list):
        return [new if index == key else item for index, item in enumerate(container)]
    return {**container, key: new}


def _mutated_body(content_type: str, body: bytes, leaf: tuple[Any, ...], new: str) -> bytes:
    from urllib.parse import parse_qsl, quote, urlencode

    if content_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
        kind, index = leaf
        pairs[index] = (new, pairs[index][1]) if kind == "key" else (pairs[index][0], new)
        # surrogatepass: a lone surrogate goes out as %ED%A0%80, percent-encoded invalid UTF-8
        return urlencode(pairs, quote_via=quote, errors="surrogatepass").encode()
    return json.dumps(_replaced(json.loads(body), leaf, new)).encode()  # ensure_ascii: \ud800 escapes


def _leaves(content_type: str, body: bytes) -> list[tuple[Any, ...]]:
    from urllib.parse import parse_qsl

    if content_type == "application/x-www-form-urlencoded":
        count = len(parse_qsl(body.decode(), keep_blank_values=True))
        return [(kind, index) for index in range(count) for kind in ("key", "value")]
    return _json_leaves(json.loads(body))
