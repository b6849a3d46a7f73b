"""Who may be told about which shared items: the same rule that decides what a client sees.

`readers_of` answers for every account at once (when a notice is queued); `reader_at` for one
mailbox (when the sender composes that one email again just before it goes), loading only
that recipient's contacts and items, so sending N emails of a big batch costs N times one
email rather than N times all of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from portal_tui.domain import ContactStatus, FirmPortal, ItemKind, MatterPortal, rules
from portal_tui.domain.kinds import categories_from_names

from ..models import Account, PortalContact, PortalFirm, PortalItem, PortalMatter
from .compose import ItemLine, item_line

_KIND_ORDER = {kind.value: n for n, kind in enumerate(ItemKind)}


def firm_portal(firm: PortalFirm) -> FirmPortal:
    return FirmPortal(
        enabled=firm.enabled,
        permissions=categories_from_names(firm.permissions),
        notify_new_items=firm.notify_new_items,
        daily_digest=firm.daily_digest,
        notify_staff_on_upload=firm.notify_staff_on_upload,
    )


def matter_portal(matter: PortalMatter) -> MatterPortal:
    return MatterPortal(
        enabled=matter.enabled, permissions=categories_from_names(matter.permissions)
    )


@dataclass(slots=True)
class MatterItems:
    matter_id: int
    number: str
    name: str
    items: list[ItemLine] = field(default_factory=list)

    @property
    def title(self) -> str:
        return " ".join(p for p in (self.number, self.name) if p) or "Your matter"


@dataclass(slots=True)
class Reader:
    """One client account and what it may see of the given items, matter by matter."""

    account_id: int
    name: str
    email: str
    matters: list[MatterItems] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(m.items) for m in self.matters)


def _item_sort_key(item: PortalItem) -> tuple[int, str, int]:
    # Stable order, so re-rendering the same notice gives the same text.
    return (_KIND_ORDER.get(item.kind, len(_KIND_ORDER)), item.kind, item.item_id)


def mailbox(account_email: str | None, contact_email: str) -> str:
    """Where a contact's notices go, as written: the account's address, else the contact's;
    blank when neither has one."""
    return (account_email or "") or contact_email


def _address(email: str) -> str:
    """A mailbox as notices are keyed by it (one email per address, see readers_of)."""
    return email.strip().lower()


def readers_of(
    s: Session,
    firm: PortalFirm,
    items: Iterable[PortalItem],
    *,
    digest: bool,
    only: str | None = None,
) -> list[Reader]:
    """Every account that, right now, may see at least one of `items` (P3, S7) and wants to
    be told of them this way (the daily digest, or at once: F5 and the client's own email
    preference): an active contact of the item's matter, both switches ON, the category
    permitted. With `only`, just the reader whose mailbox is that address (the others are
    not composed)."""
    by_matter: dict[int, list[PortalItem]] = defaultdict(list)
    for item in items:
        by_matter[item.matter_id].append(item)
    if not by_matter:
        return []
    wanted = None if only is None else _address(only)
    firm_rules = firm_portal(firm)
    matters = {
        m.id: m for m in s.scalars(select(PortalMatter).where(PortalMatter.id.in_(by_matter)))
    }
    contacts = list(
        s.scalars(
            select(PortalContact)
            .where(
                PortalContact.matter_id.in_(by_matter),
                PortalContact.status == ContactStatus.ACTIVE.value,
            )
            .order_by(PortalContact.account_id, PortalContact.matter_id)
        )
    )
    accounts = {
        a.id: a
        for a in s.scalars(select(Account).where(Account.id.in_({c.account_id for c in contacts})))
    }
    told = rules.f5_gets_digest if digest else rules.f5_told_at_once
    # Keyed by address: two accounts sharing one mailbox get one email, not two emails with
    # the same Message-ID of which only one would be kept.
    readers: dict[str, Reader] = {}
    for contact in contacts:
        matter = matters.get(contact.matter_id)
        if matter is None:
            continue
        account = accounts.get(contact.account_id)
        preference = rules.f5_preference(account.email_preference if account else None)
        if not told(firm_rules, preference):
            continue
        email = mailbox(account.email if account is not None else None, contact.email)
        address = _address(email)
        if not address or (wanted is not None and address != wanted):
            continue
        matter_rules = matter_portal(matter)
        visible = [
            item
            for item in sorted(by_matter[contact.matter_id], key=_item_sort_key)
            if item.kind in _KIND_ORDER
            and rules.p3_client_sees(
                item.published,
                ContactStatus(contact.status),
                firm_rules,
                matter_rules,
                ItemKind(item.kind),
            )
        ]
        if not visible:
            continue
        reader = readers.get(address)
        if reader is None:
            name = (account.name if account is not None else "") or contact.name
            reader = readers[address] = Reader(contact.account_id, name, email.strip())
        if any(m.matter_id == matter.id for m in reader.matters):
            continue
        reader.matters.append(
            MatterItems(
                matter.id,
                matter.number,
                matter.name,
                [item_line(i.kind, i.item_id, i.data) for i in visible],
            )
        )
    for reader in readers.values():
        reader.matters.sort(key=lambda m: (m.number, m.name))
    return sorted(readers.values(), key=lambda r: r.account_id)


def _like_superset(address: str) -> str | None:
    """A LIKE pattern that every stored email belonging to `address` (lower-cased ASCII) is
    sure to match once the database lower-cases it, or None when no such pattern is safe.

    The database's lower() is not Python's: SQLite's changes ASCII letters only, and Python
    strips Unicode white space that TRIM keeps. So the pattern is a superset, checked exactly
    in Python afterwards: any text around it (white space) is allowed, and each "k" may be
    any one character (the Kelvin sign U+212A is the one non-ASCII character that Python
    lower-cases to an ASCII letter). A non-ASCII address gets no pattern at all.
    """
    if not address.isascii():
        return None
    escaped = address.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + escaped.replace("k", "_") + "%"


def reader_at(
    s: Session,
    firm: PortalFirm,
    address: str,
    shown: Iterable[ColumnElement[bool]],
    *,
    digest: bool,
) -> Reader | None:
    """What `readers_of(s, firm, <the items matching shown>, digest=digest)` holds for the
    one mailbox `address`, or None when it holds nothing for it; computed from that
    recipient's contacts and the items of their matters only. `shown` must include "published"."""
    wanted = _address(address)
    if not wanted:
        return None
    candidates = (
        select(PortalContact.matter_id, PortalContact.email, Account.email)
        .outerjoin(Account, Account.id == PortalContact.account_id)
        .where(PortalContact.status == ContactStatus.ACTIVE.value)
    )
    pattern = _like_superset(wanted)
    if pattern is not None:
        candidates = candidates.where(
            or_(
                func.lower(PortalContact.email).like(pattern, escape="\\"),
                func.lower(Account.email).like(pattern, escape="\\"),
            )
        )
    matter_ids = {
        matter_id
        for matter_id, contact_email, account_email in s.execute(candidates)
        if _address(mailbox(account_email, contact_email)) == wanted
    }
    if not matter_ids:
        return None
    items = s.scalars(select(PortalItem).where(*shown, PortalItem.matter_id.in_(matter_ids)))
    readers = readers_of(s, firm, items, digest=digest, only=wanted)
    return readers[0] if readers else None
