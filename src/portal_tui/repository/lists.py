"""Item lists for the screens: filtered and sorted in SQL, a keyset window at a time, each row
with its share mark for the far-left icon column (S0)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import Session

from portal_tui.domain.decision import NotFound
from portal_tui.domain.filter_words import filter_words
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import (
    DocumentRow,
    EventRow,
    FormField,
    FormRow,
    InvoiceLineRow,
    InvoiceRow,
    Key,
    MessageRow,
    NoteRow,
    Page,
    Share,
    TaskRow,
)
from portal_tui.domain.states import PartyAccess, ShareState
from portal_tui.store.models import (
    CalendarEvent,
    Client,
    Document,
    Folder,
    IntakeForm,
    Invoice,
    Matter,
    MatterParty,
    Message,
    Note,
    ShareMark,
    Task,
)

from .base import Service
from .paging import AnyRow, AnySelect, Column, keyset_page
from .search import word_filter
from .share_rows import MODEL_OF
from .sharing import invoice_line_rows

# Tasks without a due date sort after every dated one.
_NO_DUE = date(9999, 12, 31)


def _share(r: AnyRow) -> Share:
    if r.share_state is None:
        return Share()
    return Share(r.share_state, bool(r.share_wanted), r.share_error)


def _mapper(cls: type[Any], sort_field: str) -> Callable[[AnyRow], Any]:
    """Build a list row of `cls` from a result row whose columns are named as its fields."""
    names = [f.name for f in fields(cls) if f.name not in ("share", "key", "kind")]

    def to_row(r: AnyRow) -> Any:
        values = r._mapping
        key_value = values[sort_field]
        if key_value is None and sort_field == "due_on":
            key_value = _NO_DUE
        return cls(**{n: values[n] for n in names}, share=_share(r), key=(key_value, values["id"]))

    return to_row


_invoice = _mapper(InvoiceRow, "issued_on")
_event = _mapper(EventRow, "starts_at")
_task = _mapper(TaskRow, "due_on")
_note = _mapper(NoteRow, "created_at")
_document = _mapper(DocumentRow, "name")
_message = _mapper(MessageRow, "sent_at")


def _form(r: AnyRow) -> FormRow:
    fields = tuple(
        FormField(
            f["key"],
            f.get("label", f["key"]),
            f["type"],
            bool(f.get("required")),
            tuple(f.get("choices") or ()),
            f.get("target"),
        )
        for f in r.fields or ()
    )
    return FormRow(
        r.id,
        r.name,
        r.description,
        r.rule,
        r.matter_id,
        fields,
        _share(r),
        (r.name, r.id),
        edit_version=r.edit_version,
    )


@dataclass(frozen=True)
class _Spec:
    """How one kind's list is read: its columns, its order, what the filter searches."""

    columns: Callable[[], tuple[Any, ...]]
    sort: Callable[[], Column]
    descending: bool
    searched: Callable[[], tuple[Column, ...]]
    to_row: Callable[[AnyRow], Any]
    joins_matter: bool = True


_SPECS: dict[ItemKind, _Spec] = {
    ItemKind.INVOICE: _Spec(
        lambda: (
            Invoice.id,
            Invoice.matter_id,
            Invoice.number,
            Invoice.issued_on,
            Invoice.due_on,
            Invoice.status,
            Invoice.total_cents,
            Invoice.paid_cents,
            Client.name.label("client_name"),
        ),
        lambda: Invoice.issued_on,
        True,
        lambda: (Invoice.number, Matter.number, Client.name),
        _invoice,
    ),
    ItemKind.EVENT: _Spec(
        lambda: (
            CalendarEvent.id,
            CalendarEvent.matter_id,
            CalendarEvent.title,
            CalendarEvent.starts_at,
            CalendarEvent.ends_at,
            CalendarEvent.location,
            CalendarEvent.description,
            CalendarEvent.all_day,
            CalendarEvent.first_day,
            CalendarEvent.last_day,
        ),
        lambda: CalendarEvent.starts_at,
        False,
        lambda: (CalendarEvent.title, CalendarEvent.location, Matter.number),
        _event,
    ),
    ItemKind.TASK: _Spec(
        lambda: (
            Task.id,
            Task.matter_id,
            Task.title,
            Task.due_on,
            Task.done,
            Task.assignee_id,
            Task.description,
        ),
        lambda: func.coalesce(Task.due_on, literal(_NO_DUE)),
        False,
        lambda: (Task.title, Matter.number),
        _task,
    ),
    ItemKind.NOTE: _Spec(
        lambda: (Note.id, Note.matter_id, Note.subject, Note.body, Note.created_at),
        lambda: Note.created_at,
        True,
        lambda: (Note.subject, Note.body, Matter.number),
        _note,
    ),
    ItemKind.DOCUMENT: _Spec(
        lambda: (
            Document.id,
            Document.matter_id,
            Document.folder_id,
            Folder.name.label("folder_name"),
            Document.name,
            Document.source,
            Document.content_type,
            Document.size,
            Document.from_client,
            Document.created_at,
        ),
        lambda: Document.name,
        False,
        lambda: (Document.name, Folder.name),
        _document,
    ),
    ItemKind.MESSAGE: _Spec(
        lambda: (
            Message.id,
            Message.matter_id,
            Message.author_name,
            Message.from_client,
            Message.subject,
            Message.body,
            Message.sent_at,
        ),
        lambda: Message.sent_at,
        True,
        lambda: (Message.subject, Message.body, Message.author_name, Matter.number),
        _message,
    ),
    ItemKind.FORM: _Spec(
        lambda: (
            IntakeForm.id,
            IntakeForm.name,
            IntakeForm.description,
            IntakeForm.rule,
            IntakeForm.matter_id,
            IntakeForm.fields,
        ),
        lambda: IntakeForm.name,
        False,
        lambda: (IntakeForm.name, IntakeForm.description),
        _form,
        joins_matter=False,
    ),
}


class ListsService(Service):
    """The keyset-paged lists of items, one item's row, and counts of shares."""

    def _select(self, kind: ItemKind) -> AnySelect:
        spec = _SPECS[kind]
        model = MODEL_OF[kind]
        mark = and_(ShareMark.kind == kind, ShareMark.item_id == model.id)
        stmt = select(
            *spec.columns(),
            model.edit_version,
            ShareMark.state.label("share_state"),
            ShareMark.wanted.label("share_wanted"),
            ShareMark.last_error.label("share_error"),
        )
        if spec.joins_matter:
            matter_id = model.matter_id
            stmt = stmt.add_columns(Matter.number.label("matter_number")).join(
                Matter, Matter.id == matter_id
            )
            if kind is ItemKind.INVOICE:
                stmt = stmt.join(Client, Client.id == Matter.client_id)
        if kind is ItemKind.DOCUMENT:
            stmt = stmt.join(Folder, Folder.id == Document.folder_id)
        return stmt.outerjoin(ShareMark, mark)

    def _restricted_matters(self, s: Session) -> AnySelect | None:
        """Matters whose client messages the acting user may not read (M5)."""
        staff_id = self.ctx.actor.staff_id
        if staff_id is None:
            return None
        return select(MatterParty.matter_id).where(
            MatterParty.staff_id == staff_id, MatterParty.access == PartyAccess.RESTRICTED
        )

    def list_items(
        self,
        kind: ItemKind,
        *,
        matter_id: int | None = None,
        text: str = "",
        after: Key | None = None,
        before: Key | None = None,
        limit: int = 50,
        folder_id: int | None = None,
        shared_only: bool = False,
    ) -> Page[Any]:
        """One window of a list of `kind`, for one matter or across all (Activities)."""
        spec = _SPECS[kind]
        model = MODEL_OF[kind]
        stmt = self._select(kind)
        if matter_id is not None:
            stmt = stmt.where(model.matter_id == matter_id)
        if folder_id is not None and kind is ItemKind.DOCUMENT:
            stmt = stmt.where(Document.folder_id == folder_id)
        if shared_only:
            stmt = stmt.where(ShareMark.wanted.is_(True))
        typed = text.strip()
        with self.db.read() as s:
            # Several words narrow the list: a row matches every one of them.
            for word in filter_words(typed):
                stmt = stmt.where(word_filter(s, kind, word, spec.searched()))
            if kind is ItemKind.MESSAGE:
                hidden = self._restricted_matters(s)
                if hidden is not None:
                    stmt = stmt.where(Message.matter_id.not_in(hidden))
            return keyset_page(
                s,
                stmt,
                spec.sort(),
                model.id,
                spec.to_row,
                descending=spec.descending,
                after=after,
                before=before,
                limit=limit,
            )

    def item_row(self, kind: ItemKind, item_id: int) -> Any:
        """One row as its list shows it (after an edit, to refresh that row alone)."""
        model = MODEL_OF[kind]
        with self.db.read() as s:
            row = s.execute(self._select(kind).where(model.id == item_id)).first()
            if row is None:
                raise NotFound(f"No {kind.label} with id {item_id}.")
            return _SPECS[kind].to_row(row)

    def list_invoices(self, **kw: Any) -> Page[InvoiceRow]:
        return self.list_items(ItemKind.INVOICE, **kw)

    def list_events(self, **kw: Any) -> Page[EventRow]:
        return self.list_items(ItemKind.EVENT, **kw)

    def list_tasks(self, **kw: Any) -> Page[TaskRow]:
        return self.list_items(ItemKind.TASK, **kw)

    def list_notes(self, **kw: Any) -> Page[NoteRow]:
        return self.list_items(ItemKind.NOTE, **kw)

    def list_documents(self, **kw: Any) -> Page[DocumentRow]:
        return self.list_items(ItemKind.DOCUMENT, **kw)

    def list_messages(self, **kw: Any) -> Page[MessageRow]:
        return self.list_items(ItemKind.MESSAGE, **kw)

    def list_forms(self, **kw: Any) -> Page[FormRow]:
        return self.list_items(ItemKind.FORM, **kw)

    def invoice_lines(self, invoice_id: int) -> list[InvoiceLineRow]:
        with self.db.read() as s:
            return invoice_line_rows(s, invoice_id)

    def count_shared(self, matter_id: int | None = None) -> dict[ShareState, int]:
        """How many items stand in each share state (for a status line)."""
        stmt = select(ShareMark.state, func.count()).group_by(ShareMark.state)
        if matter_id is not None:
            stmt = stmt.where(ShareMark.matter_id == matter_id)
        with self.db.read() as s:
            return {state: n for state, n in s.execute(stmt)}
