"""Reading one inbound e-mail: who sent it, what it answers, its new text, its files, and
whether it was written by a machine.

Parsing is the standard library's policy-based parser (`email.message_from_bytes(raw,
policy=email.policy.default)`): headers are decoded (RFC 2047), bodies are decoded from their
transfer encoding and charset by `get_content`, and the body part is chosen by `get_body`
(plain text first, else HTML). Nothing here splits MIME by hand.

What a person wrote is the body without the history their mail program quoted below it:
the text is cut at the first reply header (`On ... wrote:`, Outlook's `From:`/`Sent:` block,
`-----Original Message-----`) or signature separator (`-- `), and `>` lines are dropped.
HTML-only mail is turned into text by an `html.parser` walker that never keeps script,
style or head content and skips quoted blocks (`<blockquote>`, Gmail's `gmail_quote`,
Outlook's reply header and everything after it).

`automatic` names the reason a message is machine-written (auto-reply, bulk, list,
delivery report, mailer-daemon): such mail never makes a ticket and is never answered, so
two auto-responders cannot ping-pong through the help desk.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

MAX_SUBJECT = 255

#: (header, test on its value, reason) — any hit makes the message automatic.
AUTOMATIC_HEADERS: tuple[tuple[str, Callable[[str], bool], str], ...] = (
    ("Auto-Submitted", lambda v: v.strip().lower() not in ("", "no"), "Auto-Submitted header (auto-reply)"),
    ("Precedence", lambda v: v.strip().lower() in ("bulk", "junk", "list", "auto_reply"), "Precedence: bulk/junk/list"),
    ("X-Autoreply", lambda v: True, "X-Autoreply header"),
    ("X-Autorespond", lambda v: True, "X-Autorespond header"),
    ("X-Auto-Response", lambda v: True, "X-Auto-Response header"),
    ("List-Id", lambda v: True, "mailing-list message (List-Id)"),
    ("List-Unsubscribe", lambda v: True, "bulk mail (List-Unsubscribe)"),
    ("Return-Path", lambda v: v.strip() == "<>", "empty Return-Path (a delivery report)"),
    ("X-SmartSupport-Outbox-Id", lambda v: True, "sent by SmartSupport itself"),
)
#: Local parts that are machines, never people (case-insensitive).
SYSTEM_SENDERS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
#: Content types of delivery / read reports.
REPORT_TYPES = frozenset({"multipart/report", "message/delivery-status", "message/disposition-notification"})

_MSGID = re.compile(r"<[^<>\s]{1,250}>")

# --- quoted history and signatures ---------------------------------------------------------

_WROTE = re.compile(r"^\s*(On|Am|Le|El|Il|Op)\b.{0,300}\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:\s*$",
                    re.IGNORECASE)
_WROTE_END = re.compile(r"\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|Von|De)\s*:\*?\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|Gesendet|Envoyé|To)\s*:\*?\s", re.IGNORECASE)
_RULE = re.compile(r"^\s*_{10,}\s*$")


def _cut_index(lines: list[str]) -> int:
    """Index of the first line of quoted history or signature (len(lines) when none)."""
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ") or line == "-- ":
            return i
        if _WROTE.match(line) or _ORIGINAL.match(line):
            return i
        if line.strip().lower().startswith(("on ", "am ", "le ")) and i + 1 < len(lines) and _WROTE_END.search(
            lines[i + 1]
        ):
            return i  # Gmail wraps a long "On ... <address>\nwrote:" over two lines
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1 : i + 5]):
            return i - 1 if i > 0 and _RULE.match(lines[i - 1]) else i
    return len(lines)


def trim_reply(text: str) -> str:
    """The new text of a message: quoted history, `>` lines and the signature removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = [line.rstrip() for line in lines[: _cut_index(lines)] if not line.lstrip().startswith(">")]
    out = "\n".join(kept)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


# --- HTML to text --------------------------------------------------------------------------

_DROP = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object", "iframe"})
_BLOCK = frozenset({"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                    "pre", "hr", "section", "article", "header", "footer"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"})


class _TextWalker(HTMLParser):
    """Collects the visible text; skips dropped and quoted elements, stops at Outlook's reply header."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_tag: str | None = None
        self.skip_depth = 0
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag and tag not in _VOID:
                self.skip_depth += 1
            return
        values = {k: (v or "") for k, v in attrs}
        classes = values.get("class", "").lower()
        ident = values.get("id", "").lower()
        if ident.startswith(("divrplyfwdmsg", "appendonsend")) or (tag == "hr" and ident == "stopspelling"):
            self.stopped = True  # Outlook: everything from here on is the quoted message
            return
        if tag in _DROP or tag == "blockquote" or "gmail_quote" in classes or "moz-cite-prefix" in classes:
            if tag not in _VOID:
                self.skip_tag, self.skip_depth = tag, 1
            return
        if tag in _BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.stopped and self.skip_tag is None:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML body (no script/style/head content, no quoted blocks)."""
    walker = _TextWalker()
    walker.feed(markup)
    walker.close()
    lines = [" ".join(line.split()) for line in "".join(walker.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- the message ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundMail:
    sender: str | None  # the From address, lower-case
    sender_name: str
    subject: str
    message_id: str | None
    refers_to: tuple[str, ...]  # In-Reply-To and References ids, nearest first
    text: str  # the new text (history and signature trimmed)
    attachments: tuple[tuple[str, bytes], ...] = ()
    automatic: str | None = None  # why it is machine-written, else None
    auth_failure: str | None = None  # the receiving server says the From domain is forged
    defects: list[str] = field(default_factory=list)


def _header(msg: EmailMessage, name: str) -> str:
    """A header's decoded value ('' when absent or unparseable)."""
    try:
        value = msg.get(name)
    except Exception:  # a malformed header the parser cannot model
        raw = msg.get_all(name, failobj=[]) if hasattr(msg, "get_all") else []
        value = raw[0] if raw else None
    return " ".join(str(value).split()) if value is not None else ""


def _ids(value: str) -> list[str]:
    return _MSGID.findall(value or "")


def _sender(msg: EmailMessage) -> tuple[str | None, str]:
    raw = _header(msg, "From")
    pairs = getaddresses([raw]) if raw else []
    name, address = pairs[0] if pairs else parseaddr(raw)
    address = (address or "").strip().lower()
    return (address if "@" in address else None), name.strip()


def _automatic(msg: EmailMessage, sender: str | None) -> str | None:
    for name, test, reason in AUTOMATIC_HEADERS:
        if name in msg:
            value = _header(msg, name)
            if test(value):
                return reason
    if msg.get_content_type() in REPORT_TYPES:
        return "delivery or read report"
    if sender and sender.split("@", 1)[0] in SYSTEM_SENDERS:
        return "sent by a mail server (mailer-daemon/postmaster)"
    return None


def _auth_failure(msg: EmailMessage) -> str | None:
    for value in msg.get_all("Authentication-Results", failobj=[]):
        if re.search(r"\bdmarc\s*=\s*fail\b", str(value), re.IGNORECASE):
            return "the sender's domain failed DMARC (the From address is probably forged)"
    return None


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # unknown charset or broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    return content if isinstance(content, str) else ""


def body_text(msg: EmailMessage) -> str:
    """The message's text: the plain part, else the HTML part as text."""
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _text_of(body)
    return html_to_text(text) if body.get_content_subtype() == "html" else text


def attachments_of(msg: EmailMessage) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every part that is not the body (what the sender attached)."""
    files: list[tuple[str, bytes]] = []
    for index, part in enumerate(msg.iter_attachments(), start=1):
        name = part.get_filename() or f"attachment-{index}"
        payload = part.get_payload(decode=True)
        if payload is None:  # a forwarded message (message/rfc822): its bytes as they are
            payload = part.as_bytes()
        files.append((name, payload))
    return files


def parse(raw: bytes) -> InboundMail:
    """Everything processing needs from the raw RFC 5322 bytes."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    sender, name = _sender(msg)
    ids = _ids(_header(msg, "Message-ID"))
    refers = _ids(_header(msg, "In-Reply-To")) + list(reversed(_ids(_header(msg, "References"))))
    return InboundMail(
        sender=sender,
        sender_name=name,
        subject=_header(msg, "Subject")[:MAX_SUBJECT],
        message_id=ids[0] if ids else None,
        refers_to=tuple(dict.fromkeys(refers)),
        text=trim_reply(body_text(msg)),
        attachments=tuple(attachments_of(msg)),
        automatic=_automatic(msg, sender),
        auth_failure=_auth_failure(msg),
        defects=[type(d).__name__ for d in msg.defects],
    )
