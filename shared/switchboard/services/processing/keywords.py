"""Opt-out / opt-in / help keywords: whole-message, case-insensitive, as carriers and Twilio match them."""

from __future__ import annotations

from switchboard.models.plan import Consent

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
# Twilio's OptOutType parameter (Advanced Opt-Out) is authoritative when present.
_OPT_OUT_TYPES = {"STOP": Consent.OPT_OUT, "START": Consent.OPT_IN, "HELP": Consent.HELP}


def consent_change(body: str, opt_out_type: str | None = None) -> Consent | None:
    """The consent a message expresses, or None. "Stop please" is not a keyword (whole message only)."""
    if opt_out_type:
        return _OPT_OUT_TYPES.get(opt_out_type.strip().upper())
    word = body.strip().strip(".!").upper()
    if word in OPT_OUT_KEYWORDS:
        return Consent.OPT_OUT
    if word in OPT_IN_KEYWORDS:
        return Consent.OPT_IN
    if word in HELP_KEYWORDS:
        return Consent.HELP
    return None
