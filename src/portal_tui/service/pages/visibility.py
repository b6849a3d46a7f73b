"""The one place that decides what a client session may see (P3, S7).

Every page asks here on every request, inside the same read transaction that loads what it
shows, and nothing of the answer is kept in the session: an item unshared, a contact disabled or
removed, or a portal switched off is gone on the very next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal_tui.domain import rules
from portal_tui.domain.kinds import ItemKind, categories_from_names
from portal_tui.domain.rules import FirmPortal, MatterPortal
from portal_tui.domain.states import ContactStatus

from ..models import Account, DocumentBlob, PortalContact, PortalFirm, PortalItem, PortalMatter


@dataclass(frozen=True, slots=True)
class MatterAccess:
    """An account's standing on one matter, as of this request."""

    account_id: int
    contact_id: int
    contact_name: str
    contact_email: str
    matter_id: int
    matter_number: str
    matter_name: str
    firm_name: str
    firm: FirmPortal
    matter: MatterPortal
    status: ContactStatus

    def sees(self, kind: ItemKind, *, published: bool = True) -> bool:
        return rules.s7_visible_now(published, self.status, self.firm, self.matter, kind)

    @property
    def screens(self) -> list[str]:
        return rules.p2_screens(self.firm, self.matter)

    @property
    def is_open(self) -> bool:
        """Whether this matter is in the client's portal at all: an active contact, both
        switches on. Categories are checked per kind."""
        return self.status is ContactStatus.ACTIVE and self.firm.enabled and self.matter.enabled


def firm_portal(s: Session) -> tuple[str, FirmPortal]:
    """The firm's name and switches. Before the firm ever sent its settings, the defaults of
    F2/F3 apply; matters are still OFF until the firm turns each one on."""
    row = s.get(PortalFirm, 1)
    if row is None:
        return "", rules.f2_default_firm_portal()
    return row.name, FirmPortal(
        enabled=row.enabled,
        permissions=categories_from_names(row.permissions),
        notify_new_items=row.notify_new_items,
        daily_digest=row.daily_digest,
        notify_staff_on_upload=row.notify_staff_on_upload,
    )


def matter_portal(row: PortalMatter) -> MatterPortal:
    return MatterPortal(enabled=row.enabled, permissions=categories_from_names(row.permissions))


def _access(
    firm_name: str, firm: FirmPortal, matter: PortalMatter, contact: PortalContact
) -> MatterAccess:
    try:
        status = ContactStatus(contact.status)
    except ValueError:
        # A status this build does not know grants nothing.
        status = ContactStatus.DISABLED
    return MatterAccess(
        account_id=contact.account_id,
        contact_id=contact.id,
        contact_name=contact.name,
        contact_email=contact.email,
        matter_id=matter.id,
        matter_number=matter.number,
        matter_name=matter.name,
        firm_name=firm_name,
        firm=firm,
        matter=matter_portal(matter),
        status=status,
    )


def matter_access(s: Session, account_id: int, matter_id: int) -> MatterAccess | None:
    """The account's access to the matter, or None when the matter is not in its portal now."""
    found = s.execute(
        select(PortalMatter, PortalContact)
        .join(PortalContact, PortalContact.matter_id == PortalMatter.id)
        .where(PortalMatter.id == matter_id, PortalContact.account_id == account_id)
    ).first()
    if found is None:
        return None
    firm_name, firm = firm_portal(s)
    access = _access(firm_name, firm, found[0], found[1])
    return access if access.is_open else None


def portal_matters(s: Session, account_id: int) -> list[MatterAccess]:
    """Every matter open to the account now (C4), by number."""
    firm_name, firm = firm_portal(s)
    rows = s.execute(
        select(PortalMatter, PortalContact)
        .join(PortalContact, PortalContact.matter_id == PortalMatter.id)
        .where(PortalContact.account_id == account_id)
        .order_by(PortalMatter.number, PortalMatter.id)
    ).all()
    found = [_access(firm_name, firm, matter, contact) for matter, contact in rows]
    return [a for a in found if a.is_open]


def account_may_log_in(s: Session, account: Account) -> bool:
    """P1: a password set, and active on at least one matter (whatever its switches: a client
    whose matters are all off may still log in, and sees that nothing is shared)."""
    if not account.password_hash:
        return False
    statuses = s.scalars(
        select(PortalContact.status).where(PortalContact.account_id == account.id)
    ).all()
    return any(
        rules.p1_can_log_in(ContactStatus(st), True)
        for st in statuses
        if st in {c.value for c in ContactStatus}
    )


def visible_items(
    s: Session, access: MatterAccess, kinds: Sequence[ItemKind]
) -> dict[ItemKind, list[PortalItem]]:
    """The published copies of the given kinds the client may see, by kind; kinds not
    permitted come back empty without a query."""
    wanted = [k for k in kinds if access.sees(k)]
    result: dict[ItemKind, list[PortalItem]] = {k: [] for k in kinds}
    if not wanted:
        return result
    rows = s.scalars(
        select(PortalItem).where(
            PortalItem.matter_id == access.matter_id,
            PortalItem.kind.in_([k.value for k in wanted]),
            PortalItem.published.is_(True),
            PortalItem.data.is_not(None),
        )
    )
    for row in rows:
        kind = ItemKind(row.kind)
        # The same rule once more per row, so no query shortcut can widen it.
        if access.sees(kind, published=row.published) and row.data is not None:
            result[kind].append(row)
    return result


def visible_item(
    s: Session, access: MatterAccess, kind: ItemKind, item_id: int
) -> PortalItem | None:
    if not access.sees(kind):
        return None
    row = s.get(PortalItem, (kind.value, item_id))
    if row is None or row.matter_id != access.matter_id or row.data is None:
        return None
    return row if access.sees(kind, published=row.published) else None


def visible_blob(
    s: Session, access: MatterAccess, item_id: int
) -> tuple[PortalItem, DocumentBlob] | None:
    """A shared document with its bytes; None when either is missing (not downloadable)."""
    item = visible_item(s, access, ItemKind.DOCUMENT, item_id)
    if item is None:
        return None
    blob = s.get(DocumentBlob, item_id)
    return (item, blob) if blob is not None else None


def blobs_present(s: Session, item_ids: Sequence[int]) -> set[int]:
    """Which of these documents have their bytes here (only those can be downloaded)."""
    if not item_ids:
        return set()
    return set(s.scalars(select(DocumentBlob.item_id).where(DocumentBlob.item_id.in_(item_ids))))
