"""How much of a reconciliation window is done: each source's estimate after a page, and the run's share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from model_factories import message

from switchboard.models import Message
from switchboard.models.reconcile import ReconcileRun
from switchboard.services.reconcile.sources import OpenPhoneSource, TwilioSource

END = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
START = END - timedelta(hours=48)


def listed(*hours_ago: float) -> list[Message]:
    return [
        message(
            provider_message_id=f"SM{index}",
            occurred_at=END - timedelta(hours=hours),
            event_type="message.listed",
        )
        for index, hours in enumerate(hours_ago)
    ]


def test_twilio_lists_newest_first_so_a_page_is_done_back_to_its_oldest_message():
    source = TwilioSource({})
    assert source.done_fraction(listed(1, 12, 6), "/next", START, END) == 0.25
    assert source.done_fraction(listed(60), "/next", START, END) == 1.0  # clamped
    assert source.done_fraction([], "/next", START, END) is None
    assert source.done_fraction(listed(1), None, START, END) == 1.0  # the last page


def test_openphone_counts_configured_conversations_finished_and_knows_nothing_while_discovering():
    configured = OpenPhoneSource({}, phone_number_id="PN1", conversations=[["+1"], ["+2"], ["+3"], ["+4"]])
    assert configured.done_fraction(listed(1), {"conversation": 1, "page_token": "t"}, START, END) == 0.25
    assert configured.done_fraction(listed(1), {"conversation": 3, "page_token": None}, START, END) == 0.75
    discovered = OpenPhoneSource({})
    assert discovered.done_fraction(listed(1), {"index": 4, "page_token": None}, START, END) is None
    assert discovered.done_fraction(listed(1), None, START, END) == 1.0


def test_the_runs_share_adds_finished_providers_and_never_moves_back():
    run = ReconcileRun.start(["twilio", "openphone"], END, END - START)
    run.advance_done(0.5)
    assert run.done == 0.25
    run.position = 1
    run.advance_done(None)  # unknown: the second provider counts as just started
    assert run.done == 0.5
    run.advance_done(0.5)
    assert run.done == 0.75
    run.advance_done(0.1)  # an estimate that went back (a conversation moved) changes nothing
    assert run.done == 0.75
