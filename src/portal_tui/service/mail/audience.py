"""Who may be told about which shared items: the same rule that decides what a client sees."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
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


def readers_of(s: Session, firm: PortalFirm, items: Iterable[PortalItem]) -> list[Reader]:
    """Every account that, right now, may see at least one of `items` (P3, S7): an active
    contact of the item's matter, both switches ON, the category permitted."""
    by_matter: dict[int, list[PortalItem]] = defaultdict(list)
    for item in items:
        by_matter[item.matter_id].append(item)
    if not by_matter:
        return []
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
    # Keyed by address: two accounts sharing one mailbox get one email, not two emails with
    # the same Message-ID of which only one would be kept.
    readers: dict[str, Reader] = {}
    for contact in contacts:
        matter = matters.get(contact.matter_id)
        if matter is None:
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
        account = accounts.get(contact.account_id)
        email = (account.email if account is not None else "") or contact.email
        if not email.strip():
            continue
        address = email.strip().lower()
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
