"""Table keys for contacts' addresses: a keyed hash of the normalized address, never the address.

The HMAC key is `keys.contact_key` in the WebhookSecrets document, read lazily (the first contact or
suppression key a container needs) and cached by Powertools like every secret. Unset, the documented
public LOCAL_CONTACT_KEY is used: fine for the local stack and tests, not private in a deployed stack
(README "Personal data"; docs/adr/0011). Changing the key re-keys every contact: keep it fixed.
"""

from __future__ import annotations

from collections.abc import Callable

from switchboard.dal.secrets import WebhookSecrets
from switchboard.pseudonyms import pseudonym

KEYS_SECTION = "keys"  # the WebhookSecrets section that holds keys, not a provider's secrets
CONTACT_KEY_FIELD = "contact_key"
LOCAL_CONTACT_KEY = "switchboard-local-contact-key"  # public: the fallback when none is configured


def normalized(address: str) -> str:
    """One spelling per address: E.164 numbers are unchanged, e-mail addresses are compared lower-case."""
    return address.strip().lower()


class AddressKeys:
    def __init__(self, secret: Callable[[], str] | None = None) -> None:
        self._secret = secret or (lambda: LOCAL_CONTACT_KEY)

    def of(self, address: str) -> str:
        """The address's id in table keys: stable for the same address under the same key."""
        return pseudonym(self._secret(), normalized(address))

    @classmethod
    def from_secrets(cls, secrets: WebhookSecrets) -> AddressKeys:
        def secret() -> str:
            return str(secrets.for_provider(KEYS_SECTION).get(CONTACT_KEY_FIELD) or LOCAL_CONTACT_KEY)

        return cls(secret)
