"""Keys built from personal data use a digest, never the data: a phone number is no partition key.

HMAC-SHA256 keyed with a configured pepper when there is one, else plain SHA-256. Unkeyed digests of
phone numbers can be reversed by brute force (there are few numbers), so they hide the number from
casual readers of keys and logs only; set a pepper to make them unguessable. Changing it re-keys.
"""

from __future__ import annotations

import hashlib
import hmac

DIGEST_CHARS = 32  # 128 bits: no collisions among any realistic number of recipients


def address_digest(address: str, pepper: bytes | None = None) -> str:
    data = address.strip().encode()
    digest = hmac.new(pepper, data, hashlib.sha256) if pepper else hashlib.sha256(data)
    return digest.hexdigest()[:DIGEST_CHARS]
