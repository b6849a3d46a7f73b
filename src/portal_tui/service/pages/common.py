"""What every client page shares: the logged-in visitor, the matter it is in, the page chrome
(navigation, the Forms drop-down), and the record of first views and downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection, CursorResult, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import Scope

from portal_tui.database import Database
from portal_tui.domain.kinds import ItemKind
from portal_tui.sqltypes import utcnow

from .. import feed
from ..config import ServiceConfig
from ..deps import config_of, db_of
from ..models import ItemView
from . import sessions, visibility
from .bodies import read_form
from .errors import AccessEnded, LoginRequired, NotFound
from .security import PageRoute
from .sessions import Visitor, visitor_of
from .visibility import MatterAccess

T = TypeVar("T")

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


class PageRouter(APIRouter):
    """The router of all client pages. No page lives under /api/, so a staff API request is
    told "not here" at once rather than matched against every page in turn (the app asks
    the pages first: they are the busy side)."""

    def __init__(self) -> None:
        super().__init__(route_class=PageRoute, include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if str(scope.get("path", "")).startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


def _login_required(request: Request) -> LoginRequired:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return LoginRequired(path if request.method == "GET" else None)


def require_visitor(request: Request) -> Visitor:
    visitor = visitor_of(request)
    if visitor is None:
        raise _login_required(request)
    return visitor


# Declared before FormFields in a handler, so a visitor without a session is sent to log in
# before the body is read (FastAPI resolves dependencies in parameter order).
CurrentVisitor = Annotated[Visitor, Depends(require_visitor)]


def open_matter(s: Session, visitor: Visitor, matter_id: int) -> MatterAccess:
    access = visibility.matter_access(s, visitor.account_id, matter_id)
    if access is None:
        ended_unless_open(s, visitor.account_id)
        raise NotFound()
    return access


def ended_unless_open(s: Session, account_id: int) -> list[MatterAccess]:
    """The matters open to the account; none at all is the end of its access (AccessEnded:
    the session ends and the page says so), not an empty portal."""
    matters = visibility.portal_matters(s, account_id)
    if not matters:
        raise AccessEnded(visibility.firm_portal(s)[0])
    return matters


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
    return read_chrome(s.connection(), visitor, access, current, title=title)


def read_chrome(
    conn: Connection,
    visitor: Visitor,
    access: MatterAccess,
    current: str,
    *,
    title: str | None = None,
    several_matters: bool | None = None,
    any_forms: bool = True,
) -> Chrome:
    """The chrome of a matter page, read in the page's transaction (`several_matters` when
    the caller has it already; `any_forms` False when it knows no form is published)."""
    screens = access.screens
    nav = tuple(
        NavLink(name, matter_url(access.matter_id, SCREEN_PATHS[name]), name == current)
        for name in screens
        if name in SCREEN_PATHS
    )
    forms: tuple[FormMenuEntry, ...] = ()
    if "Forms" in screens and any_forms:
        forms = tuple(
            FormMenuEntry(name, matter_url(access.matter_id, f"forms/{form_id}"), done)
            for form_id, name, done in visibility.form_menu(conn, access)
        )
    if several_matters is None:
        several_matters = visibility.several_open_matters(conn, access)
    return Chrome(
        title=title or current,
        firm_name=access.firm_name,
        visitor=visitor,
        access=access,
        nav=nav,
        forms=forms,
        forms_permitted="Forms" in screens,
        several_matters=several_matters,
    )


# The read-only matter pages' fast path ---------------------------------------------------------


async def read_off_loop(db: Database, work: Callable[[], T]) -> T:
    """Run a page's read. On SQLite it runs right here: a WAL read never waits for a lock, the
    pages that come this way read a bounded number of rows (tens of microseconds), and a hop
    to the thread pool costs several times that in CPU. Any other database is across a
    network, so the read goes to the thread pool and the loop keeps serving meanwhile."""
    if db.is_sqlite:
        return work()
    return await run_in_threadpool(work)


@dataclass(frozen=True, slots=True)
class OpenedPage:
    """A matter page's request, as one read found it: who, their session, their access."""

    visitor: Visitor
    session_state: str  # sessions.FRESH, STALE or EXPIRED
    access: MatterAccess | None  # None: the matter is not open to the account (404)
    several_matters: bool
    any_forms: bool  # any form published on the matter (else the Forms menu needs no read)
    now: datetime


_SESSIONS = sessions.SESSION_TABLE
# Built once (building a statement costs more than running it).
_OPEN_PAGE = (
    select(
        *sessions.SESSION_COLUMNS,
        *visibility.ACCESS_COLUMNS,
        visibility.open_matter_count(_SESSIONS.c.account_id).label("open_matters"),
        visibility.published_forms_count(bindparam("matter_id")).label("forms"),
    )
    .select_from(
        visibility.join_access(
            sessions.SESSION_FROM, _SESSIONS.c.account_id, bindparam("matter_id")
        )
    )
    .where(_SESSIONS.c.id_hash == bindparam("key"))
)


def open_page(
    conn: Connection, key: str, matter_id: int, now: datetime, config: ServiceConfig
) -> OpenedPage | None:
    """The visitor, their session's state and their access to the matter, in one statement:
    the session, its account, the account's contact row on the matter, the matter, the firm,
    how many matters are open to the account and how many forms the matter has published.
    None: no such session (log in)."""
    row = conn.execute(_OPEN_PAGE, {"key": key, "matter_id": matter_id}).first()
    if row is None:
        return None
    access = visibility.access_from_row(row.s_account_id, row)
    return OpenedPage(
        visitor=sessions.visitor_from_row(row),
        session_state=sessions.session_state(row, config, now),
        access=access,
        several_matters=access is not None and access.firm.enabled and row.open_matters > 1,
        any_forms=row.forms > 0,
        now=now,
    )


async def matter_page(
    request: Request,
    matter_id: int,
    screen: str,
    build: Callable[[Connection, OpenedPage, MatterAccess], T],
) -> tuple[OpenedPage, MatterAccess, T]:
    """A read-only matter page's data in one read transaction: the visitor, their access
    (decided afresh, S7) and what `build` reads for the screen. Not logged in (or the session
    over) is the log-in page; a matter or screen not open to the client is a 404. A session
    due its last-seen write gets it here, off the loop; nothing else is written."""
    config = config_of(request)
    db = db_of(request)
    key = sessions.session_key(request.cookies.get(sessions.session_cookie_name(config)))
    if key is None:
        raise _login_required(request)

    def work() -> tuple[OpenedPage | None, list[T]]:
        with db.reader.connect() as conn, conn.begin():
            opened = open_page(conn, key, matter_id, utcnow(), config)
            if (
                opened is None
                or opened.session_state == sessions.EXPIRED
                or opened.access is None
                or screen not in opened.access.screens
            ):
                return opened, []
            return opened, [build(conn, opened, opened.access)]

    opened, built = await read_off_loop(db, work)
    if opened is None:
        raise _login_required(request)
    if opened.session_state != sessions.FRESH:
        await run_in_threadpool(
            sessions.settle_session, db, config, key, opened.session_state, opened.now
        )
    if opened.session_state == sessions.EXPIRED:
        raise _login_required(request)
    if opened.access is None:
        await run_in_threadpool(_ended_unless_open, db, opened.visitor.account_id)
    if opened.access is None or not built:
        raise NotFound()
    return opened, opened.access, built[0]


def _ended_unless_open(db: Database, account_id: int) -> None:
    with db.read() as s:
        ended_unless_open(s, account_id)


async def remember_matter_off_loop(request: Request, visitor: Visitor, matter_id: int) -> None:
    """C4's "the matter the client is in", written only when it changes (off the loop)."""
    if visitor.matter_id != matter_id:
        await run_in_threadpool(sessions.remember_matter, db_of(request), visitor, matter_id)


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
    column = getattr(ItemView, stamp)
    with db.write() as s:
        first: list[tuple[ItemKind, int]] = []
        # One order for every request, so that two stamping the same items cannot deadlock.
        for kind, item_id in sorted(missing, key=lambda m: (m[0].value, m[1])):
            this = (
                ItemView.kind == kind.value,
                ItemView.item_id == item_id,
                ItemView.contact_id == access.contact_id,
            )
            if s.scalar(select(ItemView.id).where(*this)) is None:
                try:
                    with s.begin_nested():
                        s.execute(
                            insert(ItemView).values(
                                kind=kind.value, item_id=item_id, contact_id=access.contact_id
                            )
                        )
                except IntegrityError:
                    pass  # another request of the client made the row a moment ago
            # The stamp is set only where it is still empty, and that decides which request
            # saw it first: two tabs (or two workers) record one first view, not two.
            stamping = update(ItemView).where(*this, column.is_(None)).values({stamp: now})
            stamped = s.execute(stamping)
            if cast(CursorResult[Any], stamped).rowcount:
                first.append((kind, item_id))
        # The feed's lock is taken last, after every row this transaction locks.
        for kind, item_id in first:
            feed.record_change(
                s,
                feed.FIRST_DOWNLOAD if download else feed.FIRST_VIEW,
                access.matter_id,
                {"kind": kind.value, "item_id": item_id, "contact_id": access.contact_id},
            )
