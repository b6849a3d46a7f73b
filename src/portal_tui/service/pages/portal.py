"""The matter pages (P2): Dashboard, Invoices, Calendar, Tasks, Notes, Documents, Messages and
Forms. Every handler opens the matter through visibility in the same transaction that loads
what it shows, so what is revoked, disabled, removed or switched off is gone at once (S7)."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from datetime import UTC, date, datetime
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import FieldType
from portal_tui.sqltypes import utcnow

from .. import feed
from ..deps import config_of, db_of
from ..mail.notices import queue_upload_notice
from ..models import ClientMessage, ClientUpload, FormSubmission
from . import csrf, ics, visibility
from .bodies import read_upload, storable
from .common import (
    Chrome,
    CurrentVisitor,
    FormFields,
    OpenedPage,
    matter_chrome,
    matter_page,
    matter_url,
    open_matter,
    page_router,
    read_chrome,
    record_seen,
    remember_matter_off_loop,
    require_screen,
    require_visitor,
)
from .errors import NotFound, TooLarge
from .pdf import invoice_pdf
from .render import render
from .sessions import Visitor, remember_matter
from .views import (
    FormView,
    ThreadEntry,
    by_due,
    by_start,
    document_view,
    event_view,
    form_view,
    invoice_view,
    message_entry,
    note_view,
    task_view,
)
from .visibility import InvoicePage, MatterAccess, PageCursor

router = page_router()

CLIENT_PORTAL_FOLDER = "Client Portal Documents"
DASHBOARD_ROWS = 5
REPLY_MAX = 10_000
ANSWER_MAX = {FieldType.MULTILINE.value: 10_000}
ANSWER_MAX_DEFAULT = 1_000


def _visited(
    request: Request,
    visitor: Visitor,
    access: MatterAccess,
    kind: ItemKind | None = None,
    ids: list[int] | None = None,
) -> None:
    """After a matter page was shown: the matter is the one chosen (C4), and the items on it
    have been viewed."""
    db = db_of(request)
    remember_matter(db, visitor, access.matter_id)
    if kind is not None and ids:
        record_seen(db, access, [(kind, i) for i in ids], download=False)


# Dashboard ------------------------------------------------------------------------------------


@router.get("/m/{matter_id:int}/")
def dashboard(request: Request, matter_id: int) -> Response:
    visitor = require_visitor(request)
    now = utcnow()
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        items = visibility.visible_items(
            s, access, [ItemKind.INVOICE, ItemKind.TASK, ItemKind.EVENT]
        )
        invoices = sorted(
            (v for v in map(invoice_view, items[ItemKind.INVOICE]) if v.balance_cents > 0),
            key=lambda v: (v.due_on or date.max, v.number),
        )
        tasks = sorted((t for t in map(task_view, items[ItemKind.TASK]) if not t.done), key=by_due)
        events = sorted(
            (
                e
                for e in map(event_view, items[ItemKind.EVENT])
                if _upcoming(e.starts_at, e.ends_at, now)
            ),
            key=by_start,
        )
        response = render(
            "dashboard.html",
            page=matter_chrome(s, visitor, access, "Dashboard"),
            invoices=invoices,
            tasks=tasks[:DASHBOARD_ROWS],
            more_tasks=len(tasks) > DASHBOARD_ROWS,
            events=events[:DASHBOARD_ROWS],
            more_events=len(events) > DASHBOARD_ROWS,
        )
    _visited(request, visitor, access)
    return response


def _upcoming(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> bool:
    last = ends_at or starts_at
    return last is not None and last >= now


# Invoices -------------------------------------------------------------------------------------


@router.get("/m/{matter_id:int}/invoices")
async def invoices(request: Request) -> Response:
    """The invoices, newest first, a page at a time ("Older" and "Newer" follow a cursor:
    ?before= and ?after=).

    The busiest page of the portal, so the lean path: one statement for the session and the
    access, one for the page's rows (and one for the Forms menu when a form is published), all
    Core and in one read transaction; nothing written unless the session is due its
    last-seen write or the client has just moved to this matter. Its parameters are read from
    the request rather than declared (FastAPI's validation of the three costs more than the
    page's Forms menu): the path's int convertor has checked the matter id, and PageCursor
    parses the cursors, a malformed one meaning the first page."""
    matter_id: int = request.path_params["matter_id"]
    query = request.query_params
    older_than = PageCursor.parse(query.get("before"))
    newer_than = None if older_than is not None else PageCursor.parse(query.get("after"))

    def read(
        conn: Connection, opened: OpenedPage, access: MatterAccess
    ) -> tuple[Chrome, InvoicePage]:
        rows = visibility.invoice_page(conn, access, before=older_than, after=newer_than)
        chrome = read_chrome(
            conn,
            opened.visitor,
            access,
            "Invoices",
            several_matters=opened.several_matters,
            any_forms=opened.any_forms,
        )
        return chrome, rows

    opened, access, (chrome, rows) = await matter_page(request, matter_id, "Invoices", read)
    response = render(
        "invoices.html",
        page=chrome,
        base=matter_url(access.matter_id, "invoices"),
        invoices=rows.rows,
        newer=str(rows.newer) if rows.newer else "",
        older=str(rows.older) if rows.older else "",
    )
    await remember_matter_off_loop(request, opened.visitor, access.matter_id)
    return response


@router.get("/m/{matter_id:int}/invoices/{item_id:int}")
def invoice(request: Request, matter_id: int, item_id: int) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        item = visibility.visible_item(s, access, ItemKind.INVOICE, item_id)
        if item is None:
            raise NotFound()
        view = invoice_view(item)
        response = render(
            "invoice.html",
            page=matter_chrome(s, visitor, access, "Invoices", title=f"Invoice {view.number}"),
            invoice=view,
        )
    _visited(request, visitor, access, ItemKind.INVOICE, [item_id])
    return response


@router.get("/m/{matter_id:int}/invoices/{item_id:int}.pdf")
def invoice_download(request: Request, matter_id: int, item_id: int) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        item = visibility.visible_item(s, access, ItemKind.INVOICE, item_id)
        if item is None:
            raise NotFound()
        view = invoice_view(item)
        # The firm's own PDF of it, when it attached one; else the one made from its lines.
        content = visibility.firm_invoice_pdf(s, item)
    if content is None:
        content = invoice_pdf(
            view,
            firm_name=access.firm_name,
            client_name=access.contact_name,
            matter=f"{access.matter_number} {access.matter_name}".strip(),
        )
    record_seen(db_of(request), access, [(ItemKind.INVOICE, item_id)], download=True)
    return attachment(content, f"invoice-{view.number or item_id}.pdf", "application/pdf")


# Calendar, tasks, notes -----------------------------------------------------------------------


@router.get("/m/{matter_id:int}/calendar")
def calendar(request: Request, matter_id: int) -> Response:
    visitor = require_visitor(request)
    now = utcnow()
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Calendar")
        rows = visibility.visible_items(s, access, [ItemKind.EVENT])[ItemKind.EVENT]
        events = sorted(map(event_view, rows), key=by_start)
        upcoming = [e for e in events if _upcoming(e.starts_at, e.ends_at, now)]
        past = [e for e in reversed(events) if not _upcoming(e.starts_at, e.ends_at, now)]
        response = render(
            "calendar.html",
            page=matter_chrome(s, visitor, access, "Calendar"),
            upcoming=upcoming,
            past=past,
        )
    _visited(request, visitor, access, ItemKind.EVENT, [e.id for e in events])
    return response


@router.get("/m/{matter_id:int}/calendar.ics")
def calendar_download(request: Request, matter_id: int) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Calendar")
        rows = visibility.visible_items(s, access, [ItemKind.EVENT])[ItemKind.EVENT]
        events = sorted(map(event_view, rows), key=by_start)
    # The configured name, not the request's Host header, which the client controls.
    host = urlsplit(config_of(request).base_url).hostname or "portal.invalid"
    content = ics.calendar(
        events,
        name=f"{access.matter_number} {access.matter_name}".strip() or "Calendar",
        uid_domain=host,
        now=utcnow(),
    )
    record_seen(db_of(request), access, [(ItemKind.EVENT, e.id) for e in events], download=True)
    return attachment(
        content,
        f"calendar-{access.matter_number or matter_id}.ics",
        "text/calendar; charset=utf-8",
    )


@router.get("/m/{matter_id:int}/tasks")
def tasks(request: Request, matter_id: int) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Tasks")
        rows = visibility.visible_items(s, access, [ItemKind.TASK])[ItemKind.TASK]
        views = sorted(map(task_view, rows), key=by_due)
        response = render(
            "tasks.html",
            page=matter_chrome(s, visitor, access, "Tasks"),
            open_tasks=[t for t in views if not t.done],
            done_tasks=[t for t in views if t.done],
        )
    _visited(request, visitor, access, ItemKind.TASK, [t.id for t in views])
    return response


@router.get("/m/{matter_id:int}/notes")
def notes(request: Request, matter_id: int) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Notes")
        rows = visibility.visible_items(s, access, [ItemKind.NOTE])[ItemKind.NOTE]
        views = sorted(
            map(note_view, rows),
            key=lambda n: (n.created_at or datetime.min.replace(tzinfo=UTC), n.id),
            reverse=True,
        )
        response = render(
            "notes.html", page=matter_chrome(s, visitor, access, "Notes"), notes=views
        )
    _visited(request, visitor, access, ItemKind.NOTE, [n.id for n in views])
    return response


# Documents ------------------------------------------------------------------------------------


def _documents_page(
    s: Session,
    visitor: Visitor,
    access: MatterAccess,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    upload_limit: int,
) -> Response:
    rows = visibility.visible_items(s, access, [ItemKind.DOCUMENT])[ItemKind.DOCUMENT]
    with_blob = visibility.blobs_present(s, [r.item_id for r in rows])
    views = sorted(
        (document_view(r, downloadable=r.item_id in with_blob) for r in rows),
        key=lambda d: (d.name.lower(), d.id),
    )
    uploads = s.scalars(
        select(ClientUpload)
        .where(
            ClientUpload.matter_id == access.matter_id,
            ClientUpload.contact_id == access.contact_id,
        )
        .order_by(ClientUpload.uploaded_at.desc(), ClientUpload.id.desc())
    ).all()
    return render(
        "documents.html",
        status_code=status_code,
        page=matter_chrome(s, visitor, access, "Documents"),
        documents=views,
        uploads=[(u.name, u.size, u.uploaded_at) for u in uploads],
        folder=CLIENT_PORTAL_FOLDER,
        upload_limit=upload_limit,
        error=error,
        notice=notice,
    )


@router.get("/m/{matter_id:int}/documents")
def documents(request: Request, matter_id: int, uploaded: int = 0) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Documents")
        response = _documents_page(
            s,
            visitor,
            access,
            notice="Your file was uploaded. Your firm has been told." if uploaded else None,
            upload_limit=config_of(request).upload_limit_bytes,
        )
    _visited(request, visitor, access)
    return response


@router.get("/m/{matter_id:int}/documents/{item_id:int}")
def document_download(request: Request, matter_id: int, item_id: int) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        found = visibility.visible_blob(s, access, item_id)
        if found is None:
            raise NotFound()
        item, blob = found
        view = document_view(item, downloadable=True)
        content = blob.content
    record_seen(db_of(request), access, [(ItemKind.DOCUMENT, item_id)], download=True)
    return attachment(content, view.name, _safe_content_type(view.content_type, view.name))


def _enter_documents(request: Request, matter_id: int) -> tuple[Visitor, MatterAccess]:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Documents")
    return visitor, access


@router.post("/m/{matter_id:int}/documents")
async def upload(request: Request, matter_id: int) -> Response:
    """A client's upload into the matter's "Client Portal Documents" folder (P2)."""
    # Who and where are settled before a byte of the body is read.
    visitor, access = await run_in_threadpool(_enter_documents, request, matter_id)
    config = config_of(request)
    try:
        posted = await read_upload(request, config.upload_limit_bytes)
    except TooLarge as exc:
        return await run_in_threadpool(
            _upload_refused, request, visitor, matter_id, exc.message, 413
        )
    csrf.check_session_token(visitor, posted.fields)
    files = [f for f in posted.files if f.filename or f.content]
    if not files:
        return await run_in_threadpool(
            _upload_refused, request, visitor, matter_id, "Choose a file to upload.", 400
        )
    if len(files) > 1:
        return await run_in_threadpool(
            _upload_refused, request, visitor, matter_id, "Upload one file at a time.", 400
        )
    if not files[0].content:
        return await run_in_threadpool(
            _upload_refused,
            request,
            visitor,
            matter_id,
            "The file is empty. Choose a file that has something in it.",
            400,
        )
    name = clean_filename(files[0].filename)
    content = files[0].content
    content_type = _declared_type(files[0].content_type, name)
    await run_in_threadpool(_store_upload, request, visitor, matter_id, name, content_type, content)
    return RedirectResponse(matter_url(access.matter_id, "documents?uploaded=1"), status_code=303)


def _store_upload(
    request: Request,
    visitor: Visitor,
    matter_id: int,
    name: str,
    content_type: str,
    content: bytes,
) -> None:
    config = config_of(request)
    with db_of(request).write() as s:
        # Asked again in the writing transaction: access taken away while the file was
        # arriving means it is not stored (S7).
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Documents")
        row = ClientUpload(
            matter_id=access.matter_id,
            contact_id=access.contact_id,
            name=name,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            uploaded_at=utcnow(),
        )
        s.add(row)
        s.flush()
        feed.record_change(
            s,
            feed.UPLOAD,
            access.matter_id,
            {
                "upload_id": row.id,
                "contact_id": access.contact_id,
                "name": row.name,
                "content_type": row.content_type,
                "size": row.size,
                "sha256": row.sha256,
                "folder": CLIENT_PORTAL_FOLDER,
            },
        )
        queue_upload_notice(s, config, row)


def _upload_refused(
    request: Request, visitor: Visitor, matter_id: int, message: str, status_code: int
) -> Response:
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Documents")
        return _documents_page(
            s,
            visitor,
            access,
            error=message,
            status_code=status_code,
            upload_limit=config_of(request).upload_limit_bytes,
        )


MAX_NAME = 300  # what the portal's and the firm's databases hold of a file's name


def clean_filename(raw: str) -> str:
    """The name to keep for an uploaded file: exactly as the client named it — every
    character, no normalisation — for staff to see (their screens show control, bidi and path
    characters made visible, never interpreted). It is used nowhere as a path: stored files
    live in the databases, and downloads name it in a quoted header (`attachment`). Only what
    storage cannot hold changes: NUL, and a name longer than MAX_NAME characters (shortened,
    its extension kept)."""
    name = storable(raw)
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = MAX_NAME - len(dot + ext)
        name = (stem[:keep] + dot + ext) if dot and len(ext) <= 16 else name[:MAX_NAME]
    return name or "upload"


_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")


def _declared_type(declared: str, name: str) -> str:
    declared = declared.split(";", 1)[0].strip().lower()
    if _MIME.match(declared) and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _safe_content_type(declared: str, name: str) -> str:
    declared = declared.split(";", 1)[0].strip().lower()
    return (
        declared
        if _MIME.match(declared)
        else (mimetypes.guess_type(name)[0] or "application/octet-stream")
    )


def attachment(content: bytes, filename: str, media_type: str) -> Response:
    """A download: always an attachment (never shown inline in the portal's origin), with an
    ASCII fallback name and the real one in RFC 6266's filename*."""
    fallback = (
        unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode() or "download"
    )
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", fallback)
    disposition = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": disposition,
            # Belt and braces should a browser render it anyway: no script, no plug-ins.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


# Messages (S5) --------------------------------------------------------------------------------


def _messages_page(
    s: Session,
    visitor: Visitor,
    access: MatterAccess,
    *,
    body: str = "",
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> tuple[Response, list[int]]:
    rows = visibility.visible_items(s, access, [ItemKind.MESSAGE])[ItemKind.MESSAGE]
    thread: list[ThreadEntry] = [message_entry(r) for r in rows]
    replies = s.scalars(
        select(ClientMessage).where(ClientMessage.matter_id == access.matter_id)
    ).all()
    thread += [
        ThreadEntry(
            author_name=r.author_name,
            from_client=True,
            subject="",
            body=r.body,
            sent_at=r.sent_at,
        )
        for r in replies
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    thread.sort(key=lambda m: (m.sent_at or oldest, m.item_id or 0))
    response = render(
        "messages.html",
        status_code=status_code,
        page=matter_chrome(s, visitor, access, "Messages"),
        thread=thread,
        body=body,
        error=error,
        notice=notice,
        reply_max=REPLY_MAX,
    )
    return response, [r.item_id for r in rows]


@router.get("/m/{matter_id:int}/messages")
def messages(request: Request, matter_id: int, sent: int = 0) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Messages")
        response, ids = _messages_page(
            s, visitor, access, notice="Your message was sent." if sent else None
        )
    _visited(request, visitor, access, ItemKind.MESSAGE, ids)
    return response


@router.post("/m/{matter_id:int}/messages")
def reply(request: Request, matter_id: int, visitor: CurrentVisitor, form: FormFields) -> Response:
    db = db_of(request)
    with db.read() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Messages")
    csrf.check_session_token(visitor, form)
    body = form.get("body", "").replace("\r\n", "\n").strip()
    error = None
    if not body:
        error = "Write a message before sending."
    elif len(body) > REPLY_MAX:
        error = f"Messages can be at most {REPLY_MAX:,} characters long."
    if error is not None:
        with db.read() as s:
            access = open_matter(s, visitor, matter_id)
            return _messages_page(s, visitor, access, body=body, error=error, status_code=400)[0]
    with db.write() as s:
        access = open_matter(s, visitor, matter_id)
        require_screen(access, "Messages")
        row = ClientMessage(
            matter_id=access.matter_id,
            contact_id=access.contact_id,
            author_name=access.contact_name or visitor.name,
            body=body,
            sent_at=utcnow(),
        )
        s.add(row)
        s.flush()
        feed.record_change(
            s,
            feed.REPLY,
            access.matter_id,
            {
                "message_id": row.id,
                "contact_id": access.contact_id,
                "author_name": row.author_name,
                "body": row.body,
                "sent_at": row.sent_at.isoformat(),
            },
        )
    return RedirectResponse(matter_url(matter_id, "messages?sent=1"), status_code=303)


# Forms (S4) -----------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-/]{5,30}$")


def validate_answers(
    form: FormView, posted: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The answers as stored, and a message per field that is not right."""
    answers: dict[str, str] = {}
    errors: dict[str, str] = {}
    for f in form.fields:
        value = posted.get(f"field-{f.key}", "").replace("\r\n", "\n").strip()
        answers[f.key] = value
        limit = ANSWER_MAX.get(f.type, ANSWER_MAX_DEFAULT)
        if not value:
            if f.required:
                errors[f.key] = "This field is required."
            continue
        if len(value) > limit:
            errors[f.key] = f"Use at most {limit:,} characters."
        elif f.type == FieldType.DATE.value:
            try:
                date.fromisoformat(value)
            except ValueError:
                errors[f.key] = "Enter a date as YYYY-MM-DD, for example 2025-03-31."
        elif f.type == FieldType.EMAIL.value and not _EMAIL.match(value):
            errors[f.key] = "Enter an email address, like name@example.com."
        elif f.type == FieldType.PHONE.value and not _PHONE.match(value):
            errors[f.key] = "Enter a phone number: digits, spaces, and + ( ) - only."
        elif f.type == FieldType.CHOICE.value and value not in f.choices:
            errors[f.key] = "Choose one of the options."
        elif f.type != FieldType.MULTILINE.value and "\n" in value:
            errors[f.key] = "Use a single line."
    return answers, errors


def _form_page(
    s: Session,
    visitor: Visitor,
    access: MatterAccess,
    form: FormView,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    just_sent: bool = False,
) -> Response:
    submitted = s.scalar(
        select(FormSubmission).where(
            FormSubmission.form_id == form.id, FormSubmission.contact_id == access.contact_id
        )
    )
    return render(
        "form.html",
        status_code=status_code,
        page=matter_chrome(s, visitor, access, "Forms", title=form.name),
        form=form,
        values=values or {},
        errors=errors or {},
        submitted_at=submitted.submitted_at if submitted is not None else None,
        just_sent=just_sent,
    )


def _open_form(s: Session, access: MatterAccess, item_id: int) -> FormView:
    item = visibility.visible_item(s, access, ItemKind.FORM, item_id)
    if item is None:
        raise NotFound()
    return form_view(item)


@router.get("/m/{matter_id:int}/forms/{item_id:int}")
def form_page(request: Request, matter_id: int, item_id: int, sent: int = 0) -> Response:
    visitor = require_visitor(request)
    with db_of(request).read() as s:
        access = open_matter(s, visitor, matter_id)
        form = _open_form(s, access, item_id)
        response = _form_page(s, visitor, access, form, just_sent=bool(sent))
    _visited(request, visitor, access, ItemKind.FORM, [item_id])
    return response


@router.post("/m/{matter_id:int}/forms/{item_id:int}")
def submit_form(
    request: Request, matter_id: int, item_id: int, visitor: CurrentVisitor, form: FormFields
) -> Response:
    db = db_of(request)
    with db.read() as s:
        access = open_matter(s, visitor, matter_id)
        view = _open_form(s, access, item_id)
    csrf.check_session_token(visitor, form)
    answers, errors = validate_answers(view, form)
    if errors:
        with db.read() as s:
            access = open_matter(s, visitor, matter_id)
            view = _open_form(s, access, item_id)
            return _form_page(
                s, visitor, access, view, values=answers, errors=errors, status_code=400
            )
    try:
        with db.write() as s:
            access = open_matter(s, visitor, matter_id)
            view = _open_form(s, access, item_id)
            already = s.scalar(
                select(FormSubmission.id).where(
                    FormSubmission.form_id == item_id,
                    FormSubmission.contact_id == access.contact_id,
                )
            )
            if already is None:
                row = FormSubmission(
                    form_id=item_id,
                    matter_id=access.matter_id,
                    contact_id=access.contact_id,
                    answers=answers,
                    submitted_at=utcnow(),
                )
                s.add(row)
                s.flush()
                feed.record_change(
                    s,
                    feed.FORM_SUBMISSION,
                    access.matter_id,
                    {
                        "submission_id": row.id,
                        "form_id": item_id,
                        "contact_id": access.contact_id,
                        "answers": answers,
                        "submitted_by": access.contact_email,
                        "submitted_at": row.submitted_at.isoformat(),
                    },
                )
    except IntegrityError:
        # The same form sent twice at once: the other request's row stands (S4).
        already = -1
    if already is not None:
        with db.read() as s:
            access = open_matter(s, visitor, matter_id)
            view = _open_form(s, access, item_id)
            return _form_page(s, visitor, access, view, status_code=409)
    return RedirectResponse(matter_url(matter_id, f"forms/{item_id}?sent=1"), status_code=303)
