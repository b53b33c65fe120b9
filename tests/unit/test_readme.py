"""The README's copy-paste curl example must stay correctly signed for the local stack."""

from __future__ import annotations

import re

from providers.conftest import assert_accepted

from switchboard.webhook_request import FORM, WebhookRequest
from switchboard_ops.local.secrets import LOCAL_SECRETS
from switchboard_ops.project import ROOT


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, f"the README no longer has {pattern!r}"
    return match.group(1)


def test_the_readme_twilio_curl_example_verifies_against_the_local_secret():
    readme = (ROOT / "README.md").read_text()
    url = found(r"curl -sS (http://127\.0\.0\.1:3000/webhooks/twilio) ", readme)
    signature = found(r"X-Twilio-Signature: ([^']+)'", readme)
    body = found(r"--data '([^']+)'", readme)

    request = WebhookRequest(
        route="twilio",
        url=url,
        body=body.encode(),
        headers={"content-type": FORM, "x-twilio-signature": signature},
    )

    assert_accepted(request, LOCAL_SECRETS["twilio"], now=0)  # fails if the example went stale
