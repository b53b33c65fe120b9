"""E-mail reply text: known answers from the reply shapes each e-mail provider and mail client sends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.services.processing.reply_text import html_to_text, reply_text
from switchboard_ops.project import load_event

NEW = "Yes, Tuesday at 3pm works for me."


def _payload(name: str) -> dict:
    return json.loads(load_event(f"payloads/{name}")["body"])


@pytest.mark.parametrize(
    ("event", "path"),
    [
        ("smartlead_email_reply", ("reply_message", "text")),
        ("smartlead_email_reply", ("reply_message", "html")),
        ("instantly_reply_received", ("reply_text",)),
        ("instantly_reply_received", ("reply_html",)),
    ],
)
def test_provider_sample_replies_give_the_new_text(event, path):
    # Given a provider's sample reply field (text or HTML part)
    value: Any = _payload(event)  # a dict, then the field's text
    for key in path:
        value = value[key]
    # When its reply text is taken / Then only the new sentence is left
    assert reply_text(value) == NEW


GMAIL_HTML = (
    '<div dir="ltr">Yes, Tuesday at 3pm works for me.</div><br>'
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Nov 24, 2026 at 3:30 PM Alex Rivera '
    '&lt;<a href="mailto:alex@switchboard-demo.io">alex@switchboard-demo.io</a>&gt; wrote:<br></div>'
    '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">Do your drivers answer dispatch texts?'
    "</blockquote></div>"
)
OUTLOOK_HTML = (
    "<html><head><style>p{margin:0}</style></head><body><div>Yes, Tuesday at 3pm works for&nbsp;me.</div>"
    '<hr><div id="divRplyFwdMsg"><b>From:</b> Alex Rivera &lt;alex@switchboard-demo.io&gt;<br><b>Sent:</b> '
    "Monday, November 24, 2026 3:30 PM</div><div>Do your drivers answer dispatch texts?</div></body></html>"
)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        (
            "gmail plain, attribution wrapped over two lines",
            "Yes, Tuesday at 3pm works for me.\n\nOn Mon, Nov 24, 2026 at 3:30 PM Alex Rivera <\n"
            "alex@switchboard-demo.io> wrote:\n\n> Do your drivers answer dispatch texts?\n",
        ),
        (
            "apple mail",
            "Yes, Tuesday at 3pm works for me.\n\nSent from my iPhone\n\n"
            "On 24 Nov 2026, at 15:30, Alex Rivera <alex@switchboard-demo.io> wrote:\n\n"
            "> Do your drivers answer?",
        ),
        (
            "outlook desktop header block without a blank line",
            "Yes, Tuesday at 3pm works for me.\r\nFrom: Alex Rivera <alex@switchboard-demo.io>\r\n"
            "Sent: Monday, November 24, 2026 3:30 PM\r\nTo: Maya Chen <maya.chen@northwind-logistics.com>\r\n"
            "Subject: Dispatch texts that drivers actually answer\r\n\r\nHi Maya, do your drivers answer?",
        ),
        (
            "outlook underscore rule",
            "Yes, Tuesday at 3pm works for me.\n\n________________________________\n"
            "From: Alex Rivera <alex@switchboard-demo.io>\nSent: Monday, November 24, 2026 3:30 PM\n"
            "To: Maya Chen\nSubject: Dispatch texts\n\nHi Maya",
        ),
        (
            "original message separator",
            "Yes, Tuesday at 3pm works for me.\n\n-----Original Message-----\nFrom: Alex\nHi Maya",
        ),
        (
            "german client",
            "Yes, Tuesday at 3pm works for me.\n\nAm Mo., 24. Nov. 2026 um 15:30 Uhr schrieb Alex Rivera "
            "<alex@switchboard-demo.io>:\n> Hallo",
        ),
        (
            "iso-date attribution",
            "Yes, Tuesday at 3pm works for me.\n\nOn 2026-11-24 15:30, Alex Rivera wrote:\n> Hi",
        ),
        (
            "danish outlook header block",
            "Yes, Tuesday at 3pm works for me.\n\nFra: Alex Rivera <alex@switchboard-demo.io>\n"
            "Sendt: 24. november 2026 15:30\nTil: Maya Chen\nEmne: Dispatch\n\nHej Maya",
        ),
        (
            "subject before from",
            "Yes, Tuesday at 3pm works for me.\n\nSubject: Dispatch texts\nFrom: Alex Rivera\n"
            "Date: Mon, 24 Nov 2026\nTo: Maya Chen\n\nHi Maya",
        ),
        (
            "quoted parent without `>` marks",
            "Yes, Tuesday at 3pm works for me.\n\nOn Mon, Nov 24, 2026 at 3:30 PM Alex wrote:\n"
            "Hi Maya, do your drivers answer?",
        ),
        (
            "bare trailing quote block",
            "Yes, Tuesday at 3pm works for me.\n\n> Do your drivers\n> answer texts?",
        ),
        ("dash-dash signature", "Yes, Tuesday at 3pm works for me.\n-- \nMaya Chen\nOps lead, Northwind"),
        (
            "sign-off with a short name block",
            "Yes, Tuesday at 3pm works for me.\n\nBest regards,\nMaya Chen\nHead of Operations\n"
            "Northwind Logistics\n+1 415 555 0123",
        ),
        ("gmail html", GMAIL_HTML),
        ("outlook html", OUTLOOK_HTML),
        ("ghl e-mail body (html)", "<p>Yes, Tuesday at 3pm works for me.</p><p>Sent from my iPad</p>"),
    ],
)
def test_mail_client_shapes_give_the_new_text(name, body):
    # Given a reply as a mail client writes it / When reduced / Then only the new text is left
    assert reply_text(body) == NEW, name


def test_a_sign_off_followed_by_prose_is_kept():
    # Given "Thanks," starting a long paragraph, not a signature block
    body = (
        "Quick question first.\n\nThanks,\nbut before we talk I need to know whether the texts go out from "
        "our own number or from a shared pool, because our drivers only answer numbers they already know."
    )
    # When reduced / Then nothing is cut
    assert reply_text(body) == body


def test_a_reply_with_nothing_to_remove_is_unchanged():
    assert reply_text("Can we move it to Friday?") == "Can we move it to Friday?"


def test_inline_quoted_lines_are_dropped_and_answers_kept():
    # Given an inline reply interleaving `>` lines with answers
    body = "> Do you use SMS today?\nYes, for dispatch.\n> Interested in a call?\nSure, Tuesday works."
    # When reduced / Then the answers stay, the quoted questions go
    assert reply_text(body) == "Yes, for dispatch.\nSure, Tuesday works."


def test_html_markup_entities_and_scripts_become_plain_text():
    html = "<div>Price &amp; terms?</div><script>alert(1)</script><p>Call me&nbsp;tomorrow</p>"
    assert html_to_text(html).split() == ["Price", "&", "terms?", "Call", "me", "tomorrow"]


def test_a_list_in_the_reply_is_kept_and_the_sign_off_dropped():
    body = "Yes. Two questions:\n- price?\n- setup time?\n\nThanks,\nMaya"
    assert reply_text(body) == "Yes. Two questions:\n- price?\n- setup time?"


def test_a_header_looking_line_alone_is_not_a_quote():
    body = "Subject: the pilot\nYes, let's start Monday."
    assert reply_text(body) == body
