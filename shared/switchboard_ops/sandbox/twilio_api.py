"""The Twilio REST API subset Switchboard calls (Messages: create, list with paging, fetch) and the
webhooks Twilio sends (inbound messages, status callbacks), signed with X-Twilio-Signature."""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from switchboard.providers import twilio as twilio_provider
from switchboard_ops.sandbox.core import Context, Step
from switchboard_ops.sandbox.delivery import Webhook
from switchboard_ops.sandbox.store import INBOUND, OUTBOUND, MediaItem, StoredMessage
from switchboard_ops.sandbox.wire import HttpError, Request, Response, is_e164, phone_arg

API_VERSION = "2010-04-01"
PREFIX = f"/{API_VERSION}/"
_MESSAGES = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")
_WHATSAPP = "whatsapp:"
_MAX_BODY = 1600
_ERROR_MESSAGES = {"30003": "Unreachable destination handset", "30008": "Unknown error"}
_OUTCOME_STEPS: dict[str, list[Step]] = {
    "delivered": [("sent", None), ("delivered", None)],
    "undelivered": [("sent", None), ("undelivered", "30003")],
    "failed": [("failed", "30008")],
}
_USER_AGENT = "TwilioProxy/1.1"


def error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> HttpError:
    """Twilio's legacy error body (no RFC 9457 `type`/`title`, so the SDK raises TwilioRestException)."""
    payload = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return HttpError(status, payload, headers)


def fault_response(status: int) -> Response:
    names = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        429: "Too Many Requests",
    }
    return error(status, 20000 + status, names.get(status, "Injected fault")).response()


def not_found(path: str) -> HttpError:
    return error(404, 20404, f"The requested resource {path} was not found")


# --- the REST API ------------------------------------------------------------------------------


def handle(ctx: Context, request: Request) -> Response:
    _authenticate(ctx, request)
    wait = ctx.limits.try_acquire("twilio")
    if wait:
        from switchboard_ops.sandbox.ratelimit import retry_after_header

        ctx.store.count("rate_limited")
        raise error(429, 20429, "Too Many Requests", {"Retry-After": retry_after_header(wait)})
    collection = _MESSAGES.match(request.path)
    if collection:
        _check_account(ctx, request, collection["account"])
        if request.method == "POST":
            return _create(ctx, request)
        if request.method == "GET":
            return _list(ctx, request)
        raise error(405, 20004, "Method not allowed")
    single = _MESSAGE.match(request.path)
    if single:
        _check_account(ctx, request, single["account"])
        if request.method != "GET":
            raise error(405, 20004, "Method not allowed")
        message = ctx.store.get("twilio", single["sid"])
        if message is None or message.account != ctx.twilio_account_sid:
            raise not_found(request.path)
        return Response.json(200, resource(message))
    raise not_found(request.path)


def _authenticate(ctx: Context, request: Request) -> None:
    import hmac

    header = request.header("authorization") or ""
    scheme, _, encoded = header.partition(" ")
    user = password = ""
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:
            user = password = ""
    expected = f"{ctx.twilio_account_sid}:{ctx.twilio_auth_token}".encode()
    if not hmac.compare_digest(f"{user}:{password}".encode(), expected):
        raise error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})


def _check_account(ctx: Context, request: Request, account: str) -> None:
    if account != ctx.twilio_account_sid:
        raise not_found(request.path)


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _bare(number: str) -> str:
    return number[len(_WHATSAPP) :] if number.lower().startswith(_WHATSAPP) else number


def _create(ctx: Context, request: Request) -> Response:
    form = request.form()
    to, sender = _first(form, "To"), _first(form, "From")
    body = _first(form, "Body") or ""
    callback = _first(form, "StatusCallback") or None
    media_urls = form.get("MediaUrl", [])
    if not to:
        raise error(400, 21604, "A 'To' phone number is required.")
    if not is_e164(_bare(to)):
        raise error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not sender:
        raise error(400, 21603, "A 'From' phone number is required.")
    if not is_e164(_bare(sender)):
        raise error(400, 21212, f"The 'From' number {sender} is not a valid phone number or shortcode.")
    if not body and not media_urls:
        raise error(400, 21602, "Message body is required.")
    if len(body) > _MAX_BODY:
        raise error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    if any(not url.startswith(("http://", "https://")) for url in media_urls) or len(media_urls) > 10:
        raise error(400, 21620, "Invalid media URL(s).")
    if callback is not None and not callback.startswith(("http://", "https://")):
        raise error(400, 21609, "Invalid StatusCallback URL.")
    if ctx.store.is_opted_out(_bare(sender), _bare(to)):
        ctx.store.count("rejected")
        raise error(400, 21610, "Attempt to send to unsubscribed recipient")
    now = float(int(ctx.now()))  # Twilio's dates carry whole seconds
    media = tuple(MediaItem(url, None) for url in media_urls)
    message = ctx.store.add(
        StoredMessage(
            provider="twilio",
            id=ctx.new_id("MM" if media else "SM"),
            seq=ctx.store.next_seq(),
            direction=OUTBOUND,
            sender=sender,
            recipients=(to,),
            body=body,
            status="queued",
            created_at=now,
            updated_at=now,
            account=ctx.twilio_account_sid,
            media=media,
            status_callback=callback,
        )
    )
    ctx.store.count("sent")
    steps = _OUTCOME_STEPS[ctx.config.outcome_for(_bare(to))]
    ctx.run_lifecycle("twilio", message.id, steps, lambda current: status_callback(ctx, current))
    return Response.json(201, resource(message))


def resource(message: StoredMessage) -> dict[str, Any]:
    """The Message resource as the 2010-04-01 API answers it (RFC 2822 dates, counts as strings)."""
    base = f"/{API_VERSION}/Accounts/{message.account}/Messages/{message.id}"
    return {
        "account_sid": message.account,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.created_at),
        "date_sent": rfc2822(message.sent_at) if message.sent_at is not None else None,
        "date_updated": rfc2822(message.updated_at),
        "direction": "inbound" if message.direction == INBOUND else "outbound-api",
        "error_code": int(message.error_code) if message.error_code else None,
        "error_message": _ERROR_MESSAGES.get(message.error_code or "") if message.error_code else None,
        "from": message.sender,
        "messaging_service_sid": None,
        "num_media": str(len(message.media)),
        "num_segments": str(segments(message.body)),
        "price": None,
        "price_unit": "USD",
        "sid": message.id,
        "status": message.status,
        "subresource_uris": {"media": f"{base}/Media.json"},
        "to": message.recipient,
        "uri": f"{base}.json",
    }


def rfc2822(seconds: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(seconds), tz=UTC))


_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


def segments(body: str) -> int:
    """SMS segments: GSM-7 160 (153 when split), otherwise UCS-2 70 (67 when split)."""
    if all(char in _GSM7 or char in _GSM7_EXTENDED for char in body):
        length, single, multi = sum(2 if char in _GSM7_EXTENDED else 1 for char in body), 160, 153
    else:
        length, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else -(-length // multi)


# --- list + paging -----------------------------------------------------------------------------

_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


def _list(ctx: Context, request: Request) -> Response:
    filters = [(name, request.arg(name) or "") for name in _FILTERS if request.arg(name)]
    to, sender = phone_arg(request.arg("To")), phone_arg(request.arg("From"))
    on, after, before = (_date_filter(request, name) for name in ("DateSent", "DateSent>", "DateSent<"))
    page_size = _int_arg(request, "PageSize", 50, 1, 1000)
    page = _int_arg(request, "Page", 0, 0, 1_000_000)
    token = request.arg("PageToken")

    def keep(message: StoredMessage) -> bool:
        if message.account != ctx.twilio_account_sid:
            return False
        if to and message.recipient != to:
            return False
        if sender and message.sender != sender:
            return False
        if on or after or before:
            if message.sent_at is None:
                return False
            sent = int(message.sent_at)
            if on and not on[0] <= sent < on[0] + 86_400:
                return False
            if after and sent < after[0]:
                return False
            if before and sent > (before[0] + 86_399 if before[1] else before[0]):
                return False
        return True

    newest_first = sorted(filter(keep, ctx.store.messages("twilio")), key=_order, reverse=True)
    if token:
        anchor = _anchor(ctx, token)
        if token.startswith("PA"):
            rest = [m for m in newest_first if _order(m) < anchor]
            items, has_next = rest[:page_size], len(rest) > page_size
        else:
            earlier = [m for m in newest_first if _order(m) > anchor]
            items, has_next = earlier[-page_size:], True
    else:
        offset = page * page_size
        items, has_next = newest_first[offset : offset + page_size], len(newest_first) > offset + page_size

    def uri(number: int, page_token: str | None = None) -> str:
        params = [*filters, ("PageSize", str(page_size)), ("Page", str(number))]
        if page_token:
            params.append(("PageToken", page_token))
        return f"{request.path}?{urlencode(params)}"

    start = page * page_size
    payload = {
        "messages": [resource(message) for message in items],
        "end": start + max(len(items) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1, "PA" + items[-1].id) if has_next and items else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": uri(page - 1, "PB" + items[0].id) if page > 0 and items else None,
        "start": start,
        "uri": uri(page, token),
    }
    return Response.json(200, payload)


def _order(message: StoredMessage) -> tuple[float, int]:
    return (message.created_at, message.seq)


def _anchor(ctx: Context, token: str) -> tuple[float, int]:
    """PageToken "PA<sid>" pages after that message, "PB<sid>" before it (Twilio's own token shape)."""
    message = ctx.store.get("twilio", token[2:]) if token[:2] in ("PA", "PB") else None
    if message is None:
        raise error(400, 20001, f"Invalid PageToken {token}")
    return _order(message)


def _int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.arg(name)
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise error(400, 20001, f"Invalid {name}: {value}")
    return min(max(int(value), low), high)


def _date_filter(request: Request, name: str) -> tuple[int, bool] | None:
    """(Unix seconds, whether a whole day was given). YYYY-MM-DD is a GMT day; the SDK sends ISO."""
    value = request.arg(name)
    if not value:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()), True
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise error(400, 20001, f"Invalid {name}: {value}") from exc
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if name == "DateSent":  # a day filter: the day of the given instant
        midnight = parsed.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return int(midnight.timestamp()), True
    return int(parsed.timestamp()), False


# --- webhooks ----------------------------------------------------------------------------------


def _signer(ctx: Context) -> Any:
    secrets = {"auth_token": ctx.twilio_auth_token}

    def sign(url: str, body: bytes) -> dict[str, str]:
        return twilio_provider.signature_headers(url, body, secrets, time.time())

    return sign


def status_callback(ctx: Context, message: StoredMessage) -> Webhook | None:
    """Form-encoded and signed, to the StatusCallback URL given on create; none for `queued`."""
    if not message.status_callback:
        return None
    params = [
        ("SmsSid", message.id),
        ("SmsStatus", message.status),
        ("MessageStatus", message.status),
    ]
    if message.error_code:
        params.append(("ErrorCode", message.error_code))
    params += [
        ("To", message.recipient),
        ("MessageSid", message.id),
        ("AccountSid", message.account),
        ("From", message.sender),
        ("ApiVersion", API_VERSION),
    ]
    return Webhook(
        kind=f"twilio.status.{message.status}",
        url=message.status_callback,
        body=urlencode(params).encode(),
        content_type="application/x-www-form-urlencoded",
        sign=_signer(ctx),
        user_agent=_USER_AGENT,
        message_id=message.id,
        inbound=False,
    )


def _geo(number: str) -> dict[str, str]:
    # The sandbox knows no number's city: US for +1, empty fields otherwise, as non-US captures show.
    country = "US" if _bare(number).startswith("+1") else ""
    return {"Country": country, "State": "", "City": "", "Zip": ""}


def inbound(
    ctx: Context, sender: str, recipient: str, body: str, media: tuple[MediaItem, ...], at: float
) -> tuple[StoredMessage, Webhook]:
    """Twilio "receives" a message: stored as direction inbound, and an inbound webhook to deliver."""
    for name, number in (("from", sender), ("to", recipient)):
        if not is_e164(_bare(number)):
            raise HttpError(400, {"error": "bad_request", "detail": f"'{name}' must be an E.164 number"})
    if len(body) > _MAX_BODY:
        raise HttpError(400, {"error": "bad_request", "detail": "'body' is over 1600 characters"})
    at = float(int(at))
    message = ctx.store.add(
        StoredMessage(
            provider="twilio",
            id=ctx.new_id("MM" if media else "SM"),
            seq=ctx.store.next_seq(),
            direction=INBOUND,
            sender=sender,
            recipients=(recipient,),
            body=body,
            status="received",
            created_at=at,
            updated_at=at,
            sent_at=at,
            account=ctx.twilio_account_sid,
            media=media,
        )
    )
    ctx.apply_keywords(_bare(recipient), _bare(sender), body)
    to_geo, from_geo = _geo(recipient), _geo(sender)
    params = [
        ("ToCountry", to_geo["Country"]),
        ("ToState", to_geo["State"]),
        ("SmsMessageSid", message.id),
        ("NumMedia", str(len(media))),
        ("ToCity", to_geo["City"]),
        ("FromZip", from_geo["Zip"]),
        ("SmsSid", message.id),
        ("FromState", from_geo["State"]),
        ("SmsStatus", "received"),
        ("FromCity", from_geo["City"]),
        ("Body", body),
        ("FromCountry", from_geo["Country"]),
        ("To", recipient),
        ("ToZip", to_geo["Zip"]),
        ("NumSegments", str(segments(body))),
        ("ReferralNumMedia", "0"),
        ("MessageSid", message.id),
        ("AccountSid", message.account),
        ("From", sender),
        ("ApiVersion", API_VERSION),
    ]
    for index, item in enumerate(media):
        params += [(f"MediaContentType{index}", item.content_type or ""), (f"MediaUrl{index}", item.url)]
    webhook = Webhook(
        kind="twilio.inbound",
        url=f"{ctx.config.api_url}/webhooks/twilio",
        body=urlencode(params).encode(),
        content_type="application/x-www-form-urlencoded",
        sign=_signer(ctx),
        user_agent=_USER_AGENT,
        message_id=message.id,
    )
    return message, webhook
