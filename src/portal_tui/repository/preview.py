"""Preview as client: what each active contact of a matter sees in the portal right now.

The portal service decides what a client session sees with the domain's P3/S7 rule
(service/pages/visibility.py); this asks the same rule of the firm's own records: the share
marks, the contact's status, the firm's and the matter's switches and permissions. Only this
matter is previewed, whatever other matters a contact is on (C4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal_tui.domain import rules, texts
from portal_tui.domain.kinds import Category, ItemKind
from portal_tui.domain.records import ContactRow, Share
from portal_tui.domain.states import ContactStatus
from portal_tui.store.models import (
    CalendarEvent,
    Document,
    IntakeForm,
    Invoice,
    Matter,
    Message,
    Note,
    PortalContact,
    ShareMark,
    Task,
)

from .base import Service, firm_portal, get_row, matter_portal_of
from .contacts import contact_row
from .share_rows import share_of

When = date | datetime | None

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PreviewItem:
    """One shared item as the client's portal lists it."""

    kind: ItemKind
    id: int
    title: str
    when: When
    share: Share  # delivered, or still on its way to the portal


@dataclass(frozen=True, slots=True)
class PreviewGroup:
    category: Category
    items: tuple[PreviewItem, ...]


@dataclass(frozen=True, slots=True)
class ContactPreview:
    contact: ContactRow
    screens: tuple[str, ...]  # the portal screens this contact is shown (P2)
    groups: tuple[PreviewGroup, ...]  # one per permitted category, in the order of F3

    @property
    def item_count(self) -> int:
        return sum(len(g.items) for g in self.groups)


@dataclass(frozen=True, slots=True)
class MatterPreview:
    matter_id: int
    number: str
    name: str
    contacts: tuple[ContactPreview, ...]  # the matter's active contacts only
    reason: str | None  # why nobody sees anything of the matter, when that is so


def _message_title(subject: str, body: str) -> str:
    if subject.strip():
        return subject
    first = body.strip().splitlines()[0] if body.strip() else ""
    return first if len(first) <= 60 else first[:59] + "~"


# Per kind: the columns to read and how the portal's list names and dates the item.
_COLUMNS: dict[ItemKind, tuple[Any, ...]] = {
    ItemKind.INVOICE: (Invoice.id, Invoice.number, Invoice.issued_on),
    ItemKind.EVENT: (
        CalendarEvent.id,
        CalendarEvent.title,
        CalendarEvent.starts_at,
        CalendarEvent.first_day,
    ),
    ItemKind.TASK: (Task.id, Task.title, Task.due_on),
    ItemKind.NOTE: (Note.id, Note.subject, Note.created_at),
    ItemKind.DOCUMENT: (Document.id, Document.name, Document.created_at),
    ItemKind.MESSAGE: (Message.id, Message.subject, Message.sent_at, Message.body),
    ItemKind.FORM: (IntakeForm.id, IntakeForm.name),
}

_TITLE: dict[ItemKind, Callable[[Any], tuple[str, When]]] = {
    ItemKind.INVOICE: lambda r: (r[1], r[2]),
    # An all-day event by its day, which the portal shows without a time.
    ItemKind.EVENT: lambda r: (r[1], r[3] or r[2]),
    ItemKind.TASK: lambda r: (r[1], r[2]),
    ItemKind.NOTE: lambda r: (r[1], r[2]),
    ItemKind.DOCUMENT: lambda r: (r[1], r[2]),
    ItemKind.MESSAGE: lambda r: (_message_title(r[1], r[3]), r[2]),
    ItemKind.FORM: lambda r: (r[1], None),
}


def _order(item: PreviewItem) -> tuple[bool, str, str, int]:
    # Dated items by date, then undated ones; compared as ISO text, an all-day event's date
    # falls just before the timed events of its day.
    when = item.when.isoformat() if item.when is not None else ""
    return (item.when is None, when, item.title.lower(), item.id)


class PreviewService(Service):
    """A matter's portal as its clients see it (preview as client)."""

    def client_preview(self, matter_id: int) -> MatterPreview:
        """For each active contact of the matter: the items shared on it that the contact
        sees now, by category (P3, S7, F6, M4). Reading only: any staff role may look."""
        with self.db.read() as s:
            matter = get_row(s, Matter, matter_id, "matter")
            firm = firm_portal(s)
            portal = matter_portal_of(matter)
            contacts = [
                contact_row(c)
                for c in s.scalars(
                    select(PortalContact)
                    .where(
                        PortalContact.matter_id == matter_id,
                        PortalContact.status == ContactStatus.ACTIVE,
                    )
                    .order_by(PortalContact.name, PortalContact.id)
                )
            ]
            marks = list(
                s.scalars(
                    select(ShareMark).where(
                        ShareMark.matter_id == matter_id, ShareMark.wanted.is_(True)
                    )
                )
            )
            # Items are read only for kinds an active contact could see at all.
            readable = [
                m
                for m in marks
                if rules.s7_visible_now(m.wanted, ContactStatus.ACTIVE, firm, portal, m.kind)
            ]
            items = self._preview_items(s, readable)
            permitted = rules.m2_effective_permissions(firm, portal)
            screens = tuple(rules.p2_screens(firm, portal))
            previews: list[ContactPreview] = []
            for contact in contacts:
                seen = [
                    items[(m.kind, m.item_id)]
                    for m in readable
                    if (m.kind, m.item_id) in items
                    and rules.s7_visible_now(m.wanted, contact.status, firm, portal, m.kind)
                ]
                groups = tuple(
                    PreviewGroup(
                        category,
                        tuple(sorted((i for i in seen if i.kind.category is category), key=_order)),
                    )
                    for category in Category
                    if category in permitted
                )
                previews.append(ContactPreview(contact, screens, groups))
            reason: str | None = None
            if not firm.enabled:
                reason = texts.PREVIEW_FIRM_OFF
            elif not portal.enabled:
                reason = texts.PREVIEW_MATTER_OFF
            elif not contacts:
                reason = texts.PREVIEW_NO_ACTIVE_CONTACT
            return MatterPreview(matter.id, matter.number, matter.name, tuple(previews), reason)

    @staticmethod
    def _preview_items(
        s: Session, marks: Iterable[ShareMark]
    ) -> dict[tuple[ItemKind, int], PreviewItem]:
        by_kind: dict[ItemKind, dict[int, ShareMark]] = {}
        for mark in marks:
            by_kind.setdefault(mark.kind, {})[mark.item_id] = mark
        found: dict[tuple[ItemKind, int], PreviewItem] = {}
        for kind, kind_marks in by_kind.items():
            columns = _COLUMNS[kind]
            ids = list(kind_marks)
            # In chunks: SQLite caps the parameters of one statement.
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                for row in s.execute(select(*columns).where(columns[0].in_(chunk))):
                    title, when = _TITLE[kind](row)
                    share = share_of(kind_marks[row[0]])
                    found[(kind, row[0])] = PreviewItem(kind, row[0], title, when, share)
        return found
