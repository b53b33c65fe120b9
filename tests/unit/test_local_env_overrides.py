"""`switchboard local up --env NAME=VALUE`: parsed into the stack's configuration, refused when malformed."""

from __future__ import annotations

import pytest

from switchboard_ops.cli.main import build_parser
from switchboard_ops.local.stack import LocalStackError, StackConfig, parse_env_override


def test_env_overrides_are_repeatable_and_keep_everything_after_the_first_equals_sign():
    args = build_parser().parse_args(
        ["local", "up", "--env", "RECONCILE_SAFETY_MS=900000", "--env", "PIPELINE_STEPS=a=b"]
    )
    config = StackConfig.from_env(env=args.env)
    assert config.env_overrides == (("RECONCILE_SAFETY_MS", "900000"), ("PIPELINE_STEPS", "a=b"))
    assert StackConfig.from_env().env_overrides == ()
    assert parse_env_override("EMPTY=") == ("EMPTY", "")


@pytest.mark.parametrize("given", ["NOVALUE", "=1", "9LIVES=1", "BAD-NAME=1", "with space=1"])
def test_a_malformed_override_is_refused_with_the_expected_form(given):
    with pytest.raises(LocalStackError, match="NAME=VALUE"):
        parse_env_override(given)
