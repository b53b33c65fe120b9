"""The rollout flag's modes and kill switch, as pure rules over recipient ids (never numbers)."""

from __future__ import annotations

import pytest

from switchboard.models.rollout import RolloutFlag, RolloutMode
from switchboard.services.reminders.rollout import PAUSED, ROLLOUT, Rollout, bucket, refusal

INTERNAL, BETA, OTHER = "id-internal", "id-beta", "id-other"
IDS = [f"recipient-{n}" for n in range(1000)]


@pytest.mark.parametrize(
    ("mode", "allowed"),
    [
        (RolloutMode.OFF, set()),
        (RolloutMode.INTERNAL, {INTERNAL}),
        (RolloutMode.BETA, {INTERNAL, BETA}),
        (RolloutMode.ON, {INTERNAL, BETA, OTHER}),
    ],
)
def test_each_mode_widens_the_one_before(mode, allowed):
    flag = RolloutFlag(mode=mode, internal=(INTERNAL,), beta=(BETA,))
    assert {r for r in (INTERNAL, BETA, OTHER) if refusal(flag, r) is None} == allowed
    assert {refusal(flag, r) for r in {INTERNAL, BETA, OTHER} - allowed} <= {ROLLOUT}


def test_a_percentage_admits_about_that_share_and_keeps_the_earlier_groups():
    flag = RolloutFlag(mode=RolloutMode.PERCENTAGE, percent=10, internal=(INTERNAL,))
    admitted = [r for r in IDS if refusal(flag, r) is None]
    assert 60 <= len(admitted) <= 140  # 10 % of 1000, by a hash
    assert refusal(flag, INTERNAL) is None


def test_raising_the_percentage_only_adds_recipients():
    at_10 = {r for r in IDS if refusal(RolloutFlag(mode=RolloutMode.PERCENTAGE, percent=10), r) is None}
    at_25 = {r for r in IDS if refusal(RolloutFlag(mode=RolloutMode.PERCENTAGE, percent=25), r) is None}
    assert at_10 < at_25


def test_a_recipients_bucket_is_deterministic():
    assert bucket("recipient-7") == bucket("recipient-7")
    assert len({bucket(r) for r in IDS}) > 90  # spread over the 100 buckets


def test_paused_refuses_everyone_whatever_the_mode():
    flag = RolloutFlag(mode=RolloutMode.ON, internal=(INTERNAL,), paused=True)
    assert {refusal(flag, r) for r in (INTERNAL, OTHER)} == {PAUSED}
    assert Rollout(lambda: flag).reminders_allowed(INTERNAL) is False


def test_an_unset_flag_allows_everyone():
    assert Rollout(RolloutFlag).reminders_allowed(OTHER) is True
