"""The documented local test secrets. They sign every file in events/ and every sandbox webhook.

Local only: never use them in a deployed stack (deployed secrets live in the WebhookSecrets secret).
"""

from __future__ import annotations

from typing import Any

LOCAL_GHL_ED25519_PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPVS93erOdK185FXz27h6llxiCsjL9pH3xliOJJZZGdr
-----END PRIVATE KEY-----
"""
LOCAL_GHL_ED25519_PUBLIC_KEY_PEM = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEALtfm8rQgA/zIMI+wbufadiBKgoQw8VNrW0g/0ibDOG0=
-----END PUBLIC KEY-----
"""

# What a provider holds: used to sign requests (written to .local/stack.json as "secrets").
LOCAL_SECRETS: dict[str, dict[str, str]] = {
    "twilio": {"auth_token": "local-twilio-auth-token", "account_sid": "AC0123456789abcdef0123456789abcdef"},
    "openphone": {
        "api_key": "local-openphone-api-key",
        "signing_key": "bG9jYWwtb3BlbnBob25lLXNpZ25pbmcta2V5LTAwMDE=",
        "webhook_secret": "whsec_bG9jYWwtb3BlbnBob25lLXdlYmhvb2stc2VjcmV0LTE=",
    },
    # access_token / api_key: the reply APIs' keys (the sandbox's), for auto-replies
    "ghl": {
        "ed25519_private_key_pem": LOCAL_GHL_ED25519_PRIVATE_KEY_PEM,
        "access_token": "local-ghl-access-token",
    },
    "unipile": {
        "header": "Unipile-Auth",
        "value": "local-unipile-secret",
        "api_key": "local-unipile-api-key",
    },
    "smartlead": {"secret_key": "local-smartlead-secret", "api_key": "local-smartlead-api-key"},
    "instantly": {
        "header": "Authorization",
        "value": "Bearer local-instantly-secret",
        "api_key": "local-instantly-api-key",
    },
    "calcom": {"secret": "local-calcom-secret"},
    "calendly": {"signing_key": "local-calendly-signing-key"},
    "calendar": {"webhook_secret": "whsec_bG9jYWwtc3dpdGNoYm9hcmQtY2FsZW5kYXItc2VjcmV0"},
    "llm": {"api_key": "local-llm-api-key"},  # OpenAI-compatible chat completions (the sandbox's)
}


def webhook_secrets_document() -> dict[str, Any]:
    """What Switchboard holds to verify them: the WebhookSecrets document the local stack stores."""
    document: dict[str, Any] = {name: dict(values) for name, values in LOCAL_SECRETS.items()}
    document["ghl"] = {
        "ed25519_public_key_pem": LOCAL_GHL_ED25519_PUBLIC_KEY_PEM,
        "access_token": LOCAL_SECRETS["ghl"]["access_token"],
    }
    return document
