"""Keys from personal data: the one way a phone number or an e-mail address becomes part of a key.

HMAC-SHA256 with a secret key, so a key is stable for the same facts but cannot be reversed by
hashing guessed numbers or addresses (a phone number's space is small enough to enumerate).
Used for Instantly's fallback message ids (providers/_common.py) and for contact and suppression
records (dal/address_keys.py); docs/adr/0011.
"""

from __future__ import annotations

import hashlib
import hmac

SEPARATOR = "\x1f"  # a separator no fact contains: joined facts are never ambiguous


def pseudonym(key: str, *facts: str) -> str:
    """The hex HMAC-SHA256 of the facts under `key`."""
    message = SEPARATOR.join(facts).encode("utf-8", "surrogatepass")
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
