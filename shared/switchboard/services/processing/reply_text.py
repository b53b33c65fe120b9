"""The new text of an e-mail reply: HTML made plain, quoted history, reply headers and signatures cut off.

Pure and standard-library only (html.parser). The classifier and the drafts judge a reply on this text; the
stored record keeps the body as received. Rules follow the shapes of outbound-apis.md section 8: Gmail and
Apple "On ... wrote:", Outlook "From: ... Sent: ..." blocks (with or without the underscore rule),
"-----Original Message-----", `>` blocks, "-- " signatures, "Sent from my ..." lines, and a sign-off
("Best," "Thanks,") only when a short name/title block ends the reply.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_HTML = re.compile(r"<(?:html|body|div|p|br|span|table|blockquote|a|b|i|strong|font)\b[^>]*>", re.IGNORECASE)
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr", "pre"}
)
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"})
_HIDDEN_TAGS = frozenset({"style", "script", "head", "title", "blockquote"})
# Containers mail clients put the quoted thread or the signature in (Gmail, Yahoo, Thunderbird, Outlook web).
_HIDDEN_CLASSES = frozenset(
    {
        "gmail_quote",
        "gmail_signature",
        "yahoo_quoted",
        "moz-cite-prefix",
        "moz-signature",
        "OutlookMessageHeader",
    }
)
_HIDDEN_IDS = frozenset({"appendonsend", "Signature"})
# Outlook's reply header: everything after it (not just inside it) is the quoted thread.
_HISTORY_IDS = frozenset({"divRplyFwdMsg"})

# "On Mon, Nov 24, 2026 at 3:30 PM Alex <a@b.io> wrote:", Apple's "On 24 Nov 2026, at 15:30, Alex wrote:",
# and the German / French / Spanish / Dutch forms; clients wrap the line, so two lines are tried joined.
_ATTRIBUTION = re.compile(
    r"^\s*(?:On\s.+\swrote|Am\s.+\sschrieb.*|Le\s.+\sa\s+[ée]crit|El\s.+\sescribi[óo]|Op\s.+\sschreef.*)\s*:\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Forwarded message|Urspr[üu]ngliche Nachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{10,}\s*$")  # Outlook's line above the header block
_HEADER = re.compile(
    r"^\s*\*?(From|Sent|Date|To|Cc|Subject|Von|Gesendet|An|Betreff|De|Envoy[ée]|Objet|Fra|Fr[åa]n|Sendt"
    r"|Skickat|Til|Till|Emne|[ÄA]mne)\*?\s*:",
    re.IGNORECASE,
)
_FROM = re.compile(r"^\s*\*?(From|Von|De|Fra|Fr[åa]n)\*?\s*:", re.IGNORECASE)
_SIGNATURE_RULE = re.compile(r"^\s*--\s*$")  # "-- " (RFC 3676), often trimmed to "--"
_DEVICE_LINE = re.compile(
    r"^\s*(?:Sent from my \w+|Sent from (?:Mail|Outlook|Yahoo Mail|Gmail)\b"
    r"|Get Outlook for \w+|Sent via \w+)",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:best(?: regards| wishes)?|kind regards|warm regards|regards|cheers|thanks|thank you|many thanks"
    r"|sincerely|all the best|talk soon|br|mfg|viele gr[üu][ßs]e|cordialement)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 5  # name, title, company, phone, site: longer blocks are more likely prose
_MAX_SIGNATURE_LINE = 60


class _TextExtractor(HTMLParser):
    """HTML to plain text: block elements become line breaks; quoted and signature containers vanish."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0  # > 0 while inside a hidden element (counts its nested open tags)
        self._history = False  # past Outlook's reply header: nothing more is the reply's own

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if (dict(attrs).get("id") or "") in _HISTORY_IDS:
            self._history = True
        if self._hidden_depth:
            if tag not in _VOID_TAGS:
                self._hidden_depth += 1
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag not in _VOID_TAGS and _hides(tag, dict(attrs)):
            self._hidden_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self._hidden_depth:
            if tag not in _VOID_TAGS:
                self._hidden_depth -= 1
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth and not self._history:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def _hides(tag: str, attrs: dict[str, str | None]) -> bool:
    if tag in _HIDDEN_TAGS:
        return True
    classes = set((attrs.get("class") or "").split())
    return bool(classes & _HIDDEN_CLASSES) or (attrs.get("id") or "") in _HIDDEN_IDS


def looks_like_html(body: str) -> bool:
    return bool(_HTML.search(body))


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).replace("\xa0", " ").split("\n"))
    return "\n".join(lines)


def _quote_start(lines: list[str]) -> int | None:
    """Index of the first line of quoted history, or None."""
    for index, line in enumerate(lines):
        joined = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        if _ATTRIBUTION.match(line) or (line.strip() and _ATTRIBUTION.match(joined)):
            return index
        if _ORIGINAL_MESSAGE.match(line):
            return index
        if _RULE.match(line) and _header_block(lines, index + 1):
            return index
        if _HEADER.match(line) and _header_block(lines, index):
            return index
        if line.lstrip().startswith(">") and all(
            not rest.strip() or rest.lstrip().startswith(">") for rest in lines[index:]
        ):
            return index  # a trailing `>` block: the quoted thread with no attribution line
    return None


def _header_block(lines: list[str], start: int) -> bool:
    """A reply-header block (Outlook, Gmail, forwarded): "From:" and one more header, or, when another
    header comes first (some clients put Subject first), three headers of which one is "From:"."""
    window = [line for line in lines[start : start + 6] if line.strip()]
    if not window or not _HEADER.match(window[0]):
        return False
    headers = [line for line in window if _HEADER.match(line)]
    if _FROM.match(window[0]):
        return len(headers) >= 2
    return len(headers) >= 3 and any(_FROM.match(line) for line in headers)


def _signature_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _SIGNATURE_RULE.match(line) or _DEVICE_LINE.match(line):
            return index
    for index, line in enumerate(lines):
        if index and _SIGN_OFF.match(line) and _is_signature_block(lines[index + 1 :]):
            return index
    return None


def _is_signature_block(rest: list[str]) -> bool:
    block = [line for line in rest if line.strip()]
    return len(block) <= _MAX_SIGNATURE_LINES and all(
        len(line.strip()) <= _MAX_SIGNATURE_LINE for line in block
    )


def reply_text(body: str) -> str:
    """The reply's own new text (no HTML, quoted history or signature); the body when nothing matches."""
    text = html_to_text(body) if looks_like_html(body) else body
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _quote_start(lines)
    if cut is not None:
        lines = lines[:cut]
    lines = [line for line in lines if not line.lstrip().startswith(">")]  # inline-quoted lines
    cut = _signature_start(lines)
    if cut is not None:
        lines = lines[:cut]
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()
    return cleaned


__all__ = ["html_to_text", "looks_like_html", "reply_text"]
