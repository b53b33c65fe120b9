"""dal/failures.py: which AWS failures become retryable domain errors, and which stay bugs."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from switchboard.dal.failures import translated
from switchboard.errors import StoreUnavailable


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        ConnectionClosedError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_transport_failure_becomes_the_domain_error_named_after_it(error):
    expected = f"PutItem failed: {type(error).__name__}"
    with pytest.raises(StoreUnavailable, match=expected) as raised, translated(StoreUnavailable, "PutItem"):
        raise error

    assert raised.value.__cause__ is error


def test_a_service_error_becomes_the_domain_error_with_its_code():
    error = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")

    expected = "PutItem failed: ProvisionedThroughputExceededException"
    with pytest.raises(StoreUnavailable, match=expected), translated(StoreUnavailable, "PutItem"):
        raise error


def test_a_bad_request_of_ours_is_not_disguised_as_an_outage():
    # ParamValidationError is a bug in our code: it must surface as one (500, logged), not as a 503 retry
    with pytest.raises(ParamValidationError), translated(StoreUnavailable, "PutItem"):
        raise ParamValidationError(report="Missing required parameter TableName")
