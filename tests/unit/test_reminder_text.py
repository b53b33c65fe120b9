"""Reminder text: the title, the start in the recipient's own zone and clock, and the location."""

from __future__ import annotations

from datetime import UTC, date, datetime

from switchboard.services.reminders.text import REMINDER, TemplateWriter, TextRequest

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def request(**changes: object) -> TextRequest:
    fields: dict[str, object] = {
        "purpose": REMINDER,
        "title": "Dental check-up",
        "start": START,
        "all_day": None,
        "location": "120 Main St",
        "zone": "America/New_York",
        "twelve_hour": True,
    }
    return TextRequest(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_start_is_shown_in_the_recipients_zone_with_their_clock():
    assert TemplateWriter().write(request()) == (
        "Reminder: Dental check-up on Tue 1 Dec at 10:00 AM EST at 120 Main St. Reply STOP to opt out."
    )
    tokyo = TemplateWriter().write(request(zone="Asia/Tokyo", twelve_hour=False, location=None))
    assert tokyo == "Reminder: Dental check-up on Wed 2 Dec at 00:00 JST. Reply STOP to opt out."


def test_a_renamed_event_gets_new_text():
    assert TemplateWriter().write(request(title="Cleaning")) != TemplateWriter().write(request())


def test_an_all_day_event_shows_its_date_and_a_custom_template_is_used():
    writer = TemplateWriter({REMINDER: "{title} {when}{where}"})
    assert writer.write(request(start=None, all_day=date(2026, 12, 24), location=None)) == (
        "Dental check-up on Thu 24 Dec"
    )
