"""What every client page shares: the logged-in visitor, the matter it is in, the page chrome
(navigation, the Forms drop-down), and the record of first views and downloads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.domain.kinds import ItemKind
from portal_tui.sqltypes import utcnow

from .. import feed
from ..models import FormSubmission, ItemView
from . import visibility
from .bodies import read_form
from .errors import LoginRequired, NotFound
from .security import PageRoute
from .sessions import Visitor, visitor_of
from .views import form_view
from .visibility import MatterAccess

FormFields = Annotated[dict[str, str], Depends(read_form)]

# Where each P2 screen lives under /m/{id}/. Forms has no page of its own: it is the drop-down.
SCREEN_PATHS: dict[str, str] = {
    "Dashboard": "",
    "Invoices": "invoices",
    "Calendar": "calendar",
    "Tasks": "tasks",
    "Notes": "notes",
    "Documents": "documents",
    "Messages": "messages",
}


def page_router() -> APIRouter:
    # Client pages stay out of the staff API's OpenAPI document (and its fuzzing).
    return APIRouter(route_class=PageRoute, include_in_schema=False)


def require_visitor(request: Request) -> Visitor:
    visitor = visitor_of(request)
    if visitor is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise LoginRequired(path if request.method == "GET" else None)
    return visitor


# Declared before FormFields in a handler, so a visitor without a session is sent to log in
# before the body is read (FastAPI resolves dependencies in parameter order).
CurrentVisitor = Annotated[Visitor, Depends(require_visitor)]


def open_matter(s: Session, visitor: Visitor, matter_id: int) -> MatterAccess:
    access = visibility.matter_access(s, visitor.account_id, matter_id)
    if access is None:
        raise NotFound()
    return access


def require_screen(access: MatterAccess, screen: str) -> None:
    """A screen of a category the matter does not permit does not exist for the client."""
    if screen not in access.screens:
        raise NotFound()


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    href: str
    current: bool


@dataclass(frozen=True, slots=True)
class FormMenuEntry:
    name: str
    href: str
    submitted: bool


@dataclass(frozen=True, slots=True)
class Chrome:
    """What base.html shows around a page's content."""

    title: str
    firm_name: str = ""
    visitor: Visitor | None = None
    access: MatterAccess | None = None
    nav: tuple[NavLink, ...] = ()
    forms: tuple[FormMenuEntry, ...] = ()
    forms_permitted: bool = False
    several_matters: bool = False

    @property
    def csrf(self) -> str:
        return self.visitor.csrf_token if self.visitor is not None else ""


def matter_url(matter_id: int, path: str = "") -> str:
    return f"/m/{matter_id}/{path}"


def matter_chrome(
    s: Session, visitor: Visitor, access: MatterAccess, current: str, *, title: str | None = None
) -> Chrome:
    screens = access.screens
    nav = tuple(
        NavLink(name, matter_url(access.matter_id, SCREEN_PATHS[name]), name == current)
        for name in screens
        if name in SCREEN_PATHS
    )
    forms: tuple[FormMenuEntry, ...] = ()
    if "Forms" in screens:
        items = visibility.visible_items(s, access, [ItemKind.FORM])[ItemKind.FORM]
        done = set(
            s.scalars(
                select(FormSubmission.form_id).where(
                    FormSubmission.contact_id == access.contact_id,
                    FormSubmission.form_id.in_([i.item_id for i in items]),
                )
            )
        )
        views = sorted((form_view(i) for i in items), key=lambda f: (f.name.lower(), f.id))
        forms = tuple(
            FormMenuEntry(f.name, matter_url(access.matter_id, f"forms/{f.id}"), f.id in done)
            for f in views
        )
    several = len(visibility.portal_matters(s, visitor.account_id)) > 1
    return Chrome(
        title=title or current,
        firm_name=access.firm_name,
        visitor=visitor,
        access=access,
        nav=nav,
        forms=forms,
        forms_permitted="Forms" in screens,
        several_matters=several,
    )


def plain_chrome(s: Session | None, title: str, visitor: Visitor | None = None) -> Chrome:
    firm_name = visibility.firm_portal(s)[0] if s is not None else ""
    return Chrome(title=title, firm_name=firm_name, visitor=visitor)


def record_seen(
    db: Database, access: MatterAccess, items: Iterable[tuple[ItemKind, int]], *, download: bool
) -> None:
    """The first view (or download) of each item by this contact: an ItemView row and a
    change in the feed, once. Later views cost one read."""
    wanted = list(dict.fromkeys(items))
    if not wanted:
        return
    stamp = "first_downloaded_at" if download else "first_viewed_at"
    with db.read() as s:
        rows = s.scalars(
            select(ItemView).where(
                ItemView.contact_id == access.contact_id,
                ItemView.item_id.in_([item_id for _, item_id in wanted]),
            )
        ).all()
        done = {(r.kind, r.item_id) for r in rows if getattr(r, stamp) is not None}
    missing = [(k, i) for k, i in wanted if (k.value, i) not in done]
    if not missing:
        return
    now = utcnow()
    try:
        with db.write() as s:
            for kind, item_id in missing:
                row = s.scalar(
                    select(ItemView).where(
                        ItemView.kind == kind.value,
                        ItemView.item_id == item_id,
                        ItemView.contact_id == access.contact_id,
                    )
                )
                if row is None:
                    row = ItemView(kind=kind.value, item_id=item_id, contact_id=access.contact_id)
                    s.add(row)
                if getattr(row, stamp) is not None:
                    continue
                setattr(row, stamp, now)
                feed.record_change(
                    s,
                    feed.FIRST_DOWNLOAD if download else feed.FIRST_VIEW,
                    access.matter_id,
                    {"kind": kind.value, "item_id": item_id, "contact_id": access.contact_id},
                )
    except IntegrityError:
        # Another request of the same client recorded it a moment earlier: it is recorded.
        pass
