"""The one place that decides what a client session may see (P3, S7).

Every page asks here on every request, inside the same read transaction that loads what it
shows, and nothing of the answer is kept in the session: an item unshared, a contact disabled or
removed, or a portal switched off is gone on the very next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    ScalarSelect,
    String,
    and_,
    asc,
    bindparam,
    case,
    desc,
    exists,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from portal_tui.domain import rules
from portal_tui.domain.kinds import Category, ItemKind, categories_from_names
from portal_tui.domain.rules import FirmPortal, MatterPortal
from portal_tui.domain.states import ContactStatus

from ..models import (
    Account,
    DocumentBlob,
    FormSubmission,
    InvoicePdf,
    PortalContact,
    PortalFirm,
    PortalItem,
    PortalMatter,
)
from .views import InvoiceListRow, invoice_list_row


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
    return row.name, _firm(
        row.enabled,
        row.permissions,
        row.notify_new_items,
        row.daily_digest,
        row.notify_staff_on_upload,
    )


def _firm(
    enabled: bool,
    permissions: list[str],
    notify_new_items: bool,
    daily_digest: bool,
    notify_staff_on_upload: bool,
) -> FirmPortal:
    return FirmPortal(
        enabled=enabled,
        permissions=categories_from_names(permissions),
        notify_new_items=notify_new_items,
        daily_digest=daily_digest,
        notify_staff_on_upload=notify_staff_on_upload,
    )


def matter_portal(row: PortalMatter) -> MatterPortal:
    return MatterPortal(enabled=row.enabled, permissions=categories_from_names(row.permissions))


def _status(value: str) -> ContactStatus:
    try:
        return ContactStatus(value)
    except ValueError:
        # A status this build does not know grants nothing.
        return ContactStatus.DISABLED


def _access(
    firm_name: str, firm: FirmPortal, matter: PortalMatter, contact: PortalContact
) -> MatterAccess:
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
        status=_status(contact.status),
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


def firm_invoice_pdf(s: Session, item: PortalItem) -> bytes | None:
    """The firm's own PDF of a visible invoice: only the bytes its copy names (a replaced PDF
    whose new bytes have not arrived yet is not served in its place); None when it has none."""
    wanted = (item.data or {}).get("pdf_sha256")
    if not wanted:
        return None
    pdf = s.get(InvoicePdf, item.item_id)
    return pdf.content if pdf is not None and pdf.sha256 == wanted else None


def blobs_present(s: Session, item_ids: Sequence[int]) -> set[int]:
    """Which of these documents have their bytes here (only those can be downloaded)."""
    if not item_ids:
        return set()
    return set(s.scalars(select(DocumentBlob.item_id).where(DocumentBlob.item_id.in_(item_ids))))


# Core reads for the hot pages -----------------------------------------------------------------
#
# The same decisions as above, from plain columns (no ORM objects): the matter pages join these
# onto their session read, so one statement says who is asking and what they may open.

_MATTER = PortalMatter.__table__
_CONTACT = PortalContact.__table__
_FIRM = PortalFirm.__table__
_ITEM = PortalItem.__table__
_SUBMISSION = FormSubmission.__table__

ACCESS_COLUMNS = (
    _CONTACT.c.id.label("c_id"),
    _CONTACT.c.name.label("c_name"),
    _CONTACT.c.email.label("c_email"),
    _CONTACT.c.status.label("c_status"),
    _MATTER.c.id.label("m_id"),
    _MATTER.c.number.label("m_number"),
    _MATTER.c.name.label("m_name"),
    _MATTER.c.enabled.label("m_enabled"),
    _MATTER.c.permissions.label("m_permissions"),
    _FIRM.c.id.label("f_id"),
    _FIRM.c.name.label("f_name"),
    _FIRM.c.enabled.label("f_enabled"),
    _FIRM.c.permissions.label("f_permissions"),
    _FIRM.c.notify_new_items.label("f_notify_new_items"),
    _FIRM.c.daily_digest.label("f_daily_digest"),
    _FIRM.c.notify_staff_on_upload.label("f_notify_staff_on_upload"),
)


def join_access(left: Any, account_id: Any, matter_id: Any) -> Any:
    """`left` with the account's contact row on the matter, the matter and the firm, each
    outer-joined: a row without them is a matter not in the account's portal."""
    return (
        left.outerjoin(
            _CONTACT, and_(_CONTACT.c.account_id == account_id, _CONTACT.c.matter_id == matter_id)
        )
        .outerjoin(_MATTER, _MATTER.c.id == _CONTACT.c.matter_id)
        .outerjoin(_FIRM, _FIRM.c.id == 1)
    )


def open_matter_count(account_id: Any) -> ScalarSelect[int]:
    """How many matters the account is an active contact on with the matter's switch ON (the
    firm's switch is the caller's: it is one for all matters)."""
    return (
        select(func.count())
        .select_from(_CONTACT.join(_MATTER, _MATTER.c.id == _CONTACT.c.matter_id))
        .where(
            _CONTACT.c.account_id == account_id,
            _CONTACT.c.status == ContactStatus.ACTIVE.value,
            _MATTER.c.enabled.is_(True),
        )
        .scalar_subquery()
    )


@lru_cache(maxsize=256)
def _categories(names: tuple[object, ...]) -> frozenset[Category]:
    # A few distinct permission lists serve every request: parsed once each.
    return categories_from_names(names)


def _permissions(names: object) -> frozenset[Category]:
    if not isinstance(names, list):
        return categories_from_names(names)
    try:
        return _categories(tuple(names))
    except TypeError:  # something unhashable in the list: not a category anyway
        return categories_from_names(names)


def published_forms_count(matter_id: Any) -> ScalarSelect[int]:
    """How many forms are published on the matter: the Forms menu is read only if any are."""
    return (
        select(func.count())
        .select_from(_ITEM)
        .where(
            _ITEM.c.matter_id == matter_id,
            _ITEM.c.kind == ItemKind.FORM.value,
            _ITEM.c.published.is_(True),
            _ITEM.c.data.is_not(None),
        )
        .scalar_subquery()
    )


def access_from_row(account_id: int, row: Any) -> MatterAccess | None:
    """The MatterAccess of a row with ACCESS_COLUMNS; None when the matter is not open."""
    if row.c_id is None or row.m_id is None:
        return None
    if row.f_id is None:
        firm_name, firm = "", rules.f2_default_firm_portal()
    else:
        firm_name = row.f_name
        firm = FirmPortal(
            enabled=row.f_enabled,
            permissions=_permissions(row.f_permissions),
            notify_new_items=row.f_notify_new_items,
            daily_digest=row.f_daily_digest,
            notify_staff_on_upload=row.f_notify_staff_on_upload,
        )
    access = MatterAccess(
        account_id=account_id,
        contact_id=row.c_id,
        contact_name=row.c_name,
        contact_email=row.c_email,
        matter_id=row.m_id,
        matter_number=row.m_number,
        matter_name=row.m_name,
        firm_name=firm_name,
        firm=firm,
        matter=MatterPortal(enabled=row.m_enabled, permissions=_permissions(row.m_permissions)),
        status=_status(row.c_status),
    )
    return access if access.is_open else None


# Statements are built once, with bound parameters: building one is far dearer than running it.
_OPEN_MATTER_COUNT = select(open_matter_count(bindparam("account_id")))


def several_open_matters(conn: Connection, access: MatterAccess) -> bool:
    """Whether the account has another matter open to it (the "All matters" link)."""
    if not access.firm.enabled:
        return False
    count = conn.execute(_OPEN_MATTER_COUNT, {"account_id": access.account_id}).scalar_one()
    return int(count) > 1


_FORM_MENU = select(
    _ITEM.c.item_id,
    _ITEM.c.published,
    _ITEM.c.data["name"].as_string(),
    exists().where(
        _SUBMISSION.c.form_id == _ITEM.c.item_id,
        _SUBMISSION.c.contact_id == bindparam("contact_id"),
    ),
).where(
    _ITEM.c.matter_id == bindparam("matter_id"),
    _ITEM.c.kind == ItemKind.FORM.value,
    _ITEM.c.published.is_(True),
    _ITEM.c.data.is_not(None),
)


def form_menu(conn: Connection, access: MatterAccess) -> list[tuple[int, str, bool]]:
    """The forms the client may see on the matter, by name: (form id, name, submitted)."""
    if not access.sees(ItemKind.FORM):
        return []
    rows = conn.execute(
        _FORM_MENU, {"matter_id": access.matter_id, "contact_id": access.contact_id}
    ).all()
    found = [
        (int(item_id), name or f"Form {item_id}", bool(done))
        for item_id, published, name, done in rows
        # The same rule once more per row, so no query shortcut can widen it.
        if access.sees(ItemKind.FORM, published=published)
    ]
    return sorted(found, key=lambda f: (f[1].lower(), f[0]))


# Invoices, newest first, a page at a time. The order is the issue date (its first ten
# characters: an ISO date sorts as text), then the item id; both travel in the cursor, so a
# page at any depth is one read of at most a page, whatever was published meanwhile. An issue
# date missing or not starting with a digit sorts as "" (last), as the page shows no date for
# it. (The matter's invoices are still each looked at to order them: a few milliseconds for
# thousands; an index on the key would need a migration.)
INVOICE_PAGE_SIZE = 50
_ISSUED = _ITEM.c.data["issued_on"].as_string()
# Written into the statement: no parameters to bind on each run.
_DIGITS = [literal_column(f"'{digit}'", String) for digit in "0123456789"]
_INVOICE_KEY = case(
    # Equality, not a range: a range of text would follow PostgreSQL's collation.
    (func.substr(_ISSUED, 1, 1).in_(_DIGITS), func.substr(_ISSUED, 1, 10)),
    else_="",
)
_INVOICES = select(
    _ITEM.c.item_id,
    _ITEM.c.published,
    _ITEM.c.data["number"].as_string(),
    # The sort key is also the issue date as the page reads it (parse_date reads ten
    # characters), so it is not extracted twice; ordered by its label, so not computed twice.
    _INVOICE_KEY.label("sort_key"),
    _ITEM.c.data["due_on"].as_string(),
    _ITEM.c.data["total_cents"].as_string(),
    _ITEM.c.data["paid_cents"].as_string(),
).where(
    _ITEM.c.matter_id == bindparam("matter_id"),
    _ITEM.c.kind == ItemKind.INVOICE.value,
    _ITEM.c.published.is_(True),
    _ITEM.c.data.is_not(None),
)
_POSITION = tuple_(_INVOICE_KEY, _ITEM.c.item_id)
_CURSOR = tuple_(bindparam("key"), bindparam("item_id"))
_NEWEST_FIRST: tuple[Any, ...] = (desc("sort_key"), _ITEM.c.item_id.desc())
_INVOICES_FIRST = _INVOICES.order_by(*_NEWEST_FIRST).limit(bindparam("limit"))
_INVOICES_OLDER = (
    _INVOICES.where(_POSITION < _CURSOR).order_by(*_NEWEST_FIRST).limit(bindparam("limit"))
)
_INVOICES_NEWER = (
    _INVOICES.where(_POSITION > _CURSOR)
    .order_by(asc("sort_key"), _ITEM.c.item_id)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class PageCursor:
    """A position in the invoice list: the sort key and item id of a row."""

    key: str
    item_id: int

    def __str__(self) -> str:
        return f"{self.key}_{self.item_id}"

    @classmethod
    def parse(cls, text: str | None) -> PageCursor | None:
        """A cursor from a link, or None for a missing or malformed one (the first page)."""
        if not text:
            return None
        key, sep, item_id = text.rpartition("_")
        if not sep or len(key) > 10 or not item_id.isdigit() or len(item_id) > 18:
            return None
        return cls(key, int(item_id))


@dataclass(frozen=True, slots=True)
class InvoicePage:
    rows: tuple[InvoiceListRow, ...]
    newer: PageCursor | None  # where the "Newer" link starts, if there is one
    older: PageCursor | None


def invoice_page(
    conn: Connection,
    access: MatterAccess,
    *,
    before: PageCursor | None = None,
    after: PageCursor | None = None,
    size: int = INVOICE_PAGE_SIZE,
) -> InvoicePage:
    """One page of the invoices the client may see: the newest, those older than `before`,
    or those newer than `after`. Reads at most size + 1 rows."""
    if not access.sees(ItemKind.INVOICE):
        return InvoicePage((), None, None)
    params: dict[str, object] = {"matter_id": access.matter_id, "limit": size + 1}
    cursor = after or before
    if cursor is not None:
        params.update(key=cursor.key, item_id=cursor.item_id)
    stmt = _INVOICES_NEWER if after is not None else _INVOICES_OLDER if before else _INVOICES_FIRST
    fetched = conn.execute(stmt, params).all()
    more = len(fetched) > size
    # The same rule once more per row (row[1]: published), so no query shortcut can widen it:
    # s7 for this row is its `published` flag and, for everything else, the answer above.
    shown = [row for row in fetched[:size] if row[1] is True]
    if after is not None:
        if not more:
            # Nothing newer than this page: it is the first page, shown as such (whole).
            return invoice_page(conn, access, size=size)
        shown.reverse()
    elif before is not None and not shown:
        # A link from a page since emptied, or made up: the newest instead of nothing.
        return invoice_page(conn, access, size=size)
    if not shown:
        return InvoicePage((), None, None)
    has_newer = after is not None or before is not None
    has_older = more if after is None else True
    first, last = shown[0], shown[-1]
    return InvoicePage(
        tuple(
            invoice_list_row(item_id, number, key, due, total, paid)
            for item_id, _, number, key, due, total, paid in shown
        ),
        newer=PageCursor(first[3], int(first[0])) if has_newer else None,
        older=PageCursor(last[3], int(last[0])) if has_older else None,
    )
