"""Intent / sentiment of inbound replies: a deterministic rules classifier by default, pluggable otherwise."""

from __future__ import annotations

import re
from typing import Protocol

from switchboard.models.classification import Classification, Intent
from switchboard.services.processing.keywords import Consent, consent_change


class Classifier(Protocol):
    name: str

    def classify(self, text: str) -> Classification: ...


def _phrases(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b", re.IGNORECASE)


# Checked in order: the first match wins ("not interested" must win over "interested").
_RULES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.OPT_OUT,
        _phrases(
            r"unsubscribe",
            r"remove me",
            r"stop (?:texting|messaging|emailing|contacting)",
            r"do not (?:contact|text|email)",
            r"don'?t (?:contact|text|email)",
            r"opt(?:-| )?out",
        ),
    ),
    (
        Intent.OUT_OF_OFFICE,
        _phrases(
            r"out of (?:the )?office",
            r"ooo",
            r"on (?:vacation|holiday|leave|pto)",
            r"away until",
            r"auto-?reply",
            r"automatic reply",
            r"currently away",
            r"limited access to (?:my )?email",
        ),
    ),
    (
        Intent.NOT_INTERESTED,
        _phrases(
            r"not interested",
            r"no thanks?",
            r"no thank you",
            r"not (?:right )?now",
            r"not a (?:good )?fit",
            r"(?:we'?re|i'?m) all set",
            r"already have",
            r"not looking",
            r"please stop",
            r"wrong (?:person|number)",
            r"^no\b(?!\W+problem)",
        ),
    ),
    (
        Intent.MEETING_REQUESTED,
        _phrases(
            r"meeting",
            r"(?:a |quick )?call",
            r"schedule",
            r"calendar",
            r"book",
            r"zoom",
            r"let'?s (?:talk|chat|meet)",
            r"works for me",
            r"available",
            r"(?:mon|tues|wednes|thurs|fri|satur|sun)day",
            r"tomorrow",
            r"\d{1,2}(?::\d{2})? ?(?:am|pm)",
        ),
    ),
    (
        Intent.INTERESTED,
        _phrases(
            r"interested",
            r"sounds (?:good|great)",
            r"tell me more",
            r"more info(?:rmation)?",
            r"(?:i'?d )?love to",
            r"pricing",
            r"how much",
            r"sure",
            r"yes",
            r"yeah",
            r"count me in",
            r"send (?:me )?(?:details|info)",
        ),
    ),
)


class RulesClassifier:
    """Keyword rules: deterministic, free, and good enough to route replies until an LLM is plugged in."""

    name = "rules"

    def classify(self, text: str) -> Classification:
        stripped = text.strip()
        if not stripped:
            return Classification.of(Intent.NEUTRAL, self.name)  # empty or media-only
        if consent_change(stripped) is Consent.OPT_OUT:
            return Classification.of(Intent.OPT_OUT, self.name)
        for intent, pattern in _RULES:
            if pattern.search(stripped):
                return Classification.of(intent, self.name)
        return Classification.of(Intent.NEUTRAL, self.name)
