"""first_problem: how a model's refusal reads to a webhook's caller, an operator and the logs."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from switchboard.errors import first_problem


class Inner(BaseModel):
    name: str = Field(max_length=3)


class Outer(BaseModel):
    inner: Inner
    count: int = 0

    @model_validator(mode="after")
    def positive(self) -> Outer:
        if self.count < 0:
            raise ValueError("count must not be negative")
        return self


def refusal(**fields: object) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        Outer.model_validate(fields)
    return refused.value


def test_a_field_error_names_its_path():
    assert first_problem(refusal(inner={"name": "toolong"})) == (
        "inner.name: String should have at most 3 characters"
    )


def test_a_model_error_is_its_message_alone_or_under_the_given_name():
    invalid = refusal(inner={"name": "ok"}, count=-1)

    assert first_problem(invalid) == "count must not be negative"
    assert first_problem(invalid, where="payload") == "payload: count must not be negative"
