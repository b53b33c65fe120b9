"""What a phone number says about where its owner is: candidate zones and a US state (phonenumbers).

People keep their numbers when they move, so these only stand in when the booking carries no zone.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

# The states the compliance profile names, as phonenumbers' English geocoder spells them.
_STATE_NAMES = {"Florida": "FL", "Oklahoma": "OK", "Kentucky": "KY", "Connecticut": "CT", "Maryland": "MD"}
_STATE_CODES = frozenset(_STATE_NAMES.values())


def _parsed(phone: str) -> PhoneNumber | None:
    import phonenumbers  # lazy: the worker pays the import only for calendar jobs

    try:
        return phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=4096)
def number_zones(phone: str) -> tuple[str, ...]:
    """Every IANA zone the number may be in ("Etc/Unknown" dropped); () when unknown."""
    from phonenumbers import timezone

    number = _parsed(phone)
    if number is None:
        return ()
    return tuple(name for name in timezone.time_zones_for_number(number) if name != "Etc/Unknown")


@lru_cache(maxsize=4096)
def us_state(phone: str) -> str | None:
    """A US number's state code when the geocoder knows it ("Florida" or "Pensacola, FL"), else None."""
    from phonenumbers import geocoder, region_code_for_number

    number = _parsed(phone)
    if number is None or region_code_for_number(number) != "US":
        return None
    description = geocoder.description_for_number(number, "en")
    if description in _STATE_NAMES:
        return _STATE_NAMES[description]
    suffix = description.rsplit(", ", 1)[-1]
    return suffix if suffix in _STATE_CODES else None
