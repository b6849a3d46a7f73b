"""Turning notices into emails: Message-IDs, the Jinja2 templates, and the MIME message.

Text and HTML are rendered from the same context when a notice is queued and stored on the
outbox row. A "new items" or digest email is rendered once more just before it is sent, from
what its recipient may see then (see recheck), and the row keeps that version; the MIME
message itself is built from the row when it is sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from portal_tui.domain import ItemKind
from portal_tui.domain.texts import ALL_DAY

from ..config import ServiceConfig
from ..models import MailMessage

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"
MESSAGE_ID_DOMAIN = "portal-tui"
# 160 bits: no collision in any outbox, and the header stays on one line (a folded Message-ID
# comes back from Python's own parser with a leading space).
MESSAGE_ID_HEX = 40
SUBJECT_MAX = 300  # the outbox column's size

_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    # Only the HTML part is markup; escaping the text part would show "&amp;" to the reader.
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def message_id_for(kind: str, key: str, recipient: str) -> str:
    """The Message-ID of a notice, derived from what it is about and who gets it.

    Deterministic so that queueing the same notice twice hits the outbox's unique constraint,
    and so that a receiver can drop a copy resent after a crash between sending and marking
    the row sent.
    """
    subject = "\x00".join((kind, key, recipient.strip().lower()))
    digest = hashlib.sha256(subject.encode()).hexdigest()[:MESSAGE_ID_HEX]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """Client data in a header: a newline there would be a header injection."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Mail:
    """One email of a notice as composed: to whom, and what it says."""

    to_addr: str
    subject: str
    content: Rendered


def render(template: str, /, **context: Any) -> Rendered:
    """`<template>.txt` and `<template>.html` from one context; client data is escaped in
    the HTML part only."""
    return Rendered(
        _env.get_template(f"{template}.txt").render(**context),
        _env.get_template(f"{template}.html").render(**context),
    )


def portal_link(config: ServiceConfig, path: str = "/") -> str:
    return config.base_url.rstrip("/") + path


# Items as an email lists them --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemLine:
    """One shared item in a "new items" or digest email."""

    label: str  # "Invoice", "Calendar event", ...
    title: str
    detail: str  # "" or e.g. "due 1 May 2025"


def _when(value: object, *, with_time: bool) -> str:
    """A snapshot's ISO date or datetime as a reader expects it; "" when unreadable."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        if with_time and "T" in value:
            moment = datetime.fromisoformat(value)
            offset = moment.utcoffset()
            # The client's own time zone is unknown here: say which one the time is in.
            zone = "" if offset is None else " UTC" if not offset else f" {moment:%z}"
            return f"{moment:%d %b %Y %H:%M}".lstrip("0") + zone
        return f"{date.fromisoformat(value[:10]):%d %b %Y}".lstrip("0")
    except ValueError:
        return ""


def _money(cents: object) -> str:
    if not isinstance(cents, int) or isinstance(cents, bool):
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"


def _text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    return one_line(value, 200) if isinstance(value, str) else ""


def item_line(kind: str, item_id: int, data: dict[str, Any] | None) -> ItemLine:
    """What a client reads about one item: its kind, its name and the date that matters.

    Reads the snapshot the firm sent (repository.sharing.snapshot); a field missing from it
    falls back to the item's number rather than failing the whole email.
    """
    try:
        item_kind: ItemKind | None = ItemKind(kind)
    except ValueError:
        item_kind = None
    label = item_kind.label.capitalize() if item_kind else kind.capitalize()
    data = data or {}
    title, detail = "", ""
    if item_kind is ItemKind.INVOICE:
        number = _text(data, "number")
        title = number
        parts = []
        if total := _money(data.get("total_cents")):
            parts.append(f"total {total}")
        if due := _when(data.get("due_on"), with_time=False):
            parts.append(f"due {due}")
        detail = ", ".join(parts)
    elif item_kind is ItemKind.EVENT:
        title = _text(data, "title")
        if data.get("all_day") is True and (first := _when(data.get("first_day"), with_time=False)):
            last = _when(data.get("last_day"), with_time=False)
            days = first if last in ("", first) else f"{first} to {last}"
            detail = f"{days}, {ALL_DAY.lower()}"
        else:
            detail = _when(data.get("starts_at"), with_time=True)
    elif item_kind is ItemKind.TASK:
        title = _text(data, "title")
        due = _when(data.get("due_on"), with_time=False)
        detail = f"due {due}" if due else ""
    elif item_kind in (ItemKind.NOTE, ItemKind.MESSAGE):
        title = _text(data, "subject")
    elif item_kind in (ItemKind.DOCUMENT, ItemKind.FORM):
        title = _text(data, "name")
    return ItemLine(label, title or f"{label} #{item_id}", detail)


# The MIME message ----------------------------------------------------------------------------


def build_message(row: MailMessage, config: ServiceConfig) -> EmailMessage:
    """The email of an outbox row. Built the same way on every attempt (Date is the time it
    was queued), so a resent copy is the same message."""
    msg = EmailMessage()
    msg["From"] = config.mail_from
    msg["To"] = row.to_addr
    msg["Subject"] = one_line(row.subject)
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    # RFC 3834: tells autoresponders not to answer a notice.
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.body)
    if row.html:
        msg.add_alternative(row.html, subtype="html")
        # A boundary of its own rather than a random one: a resent copy is then the same
        # bytes, which helps receivers that dedupe by content as well as by Message-ID.
        boundary = "==portal-tui-" + hashlib.sha256(row.message_id.encode()).hexdigest()[:32]
        if boundary not in row.body and boundary not in row.html:
            msg.set_boundary(boundary)
    return msg
