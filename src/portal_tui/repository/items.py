"""Add, edit and delete every kind of item. Saving with the Share box applies it in the same
transaction (S2), so an item is never saved without the share its user asked for."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal_tui.domain import rules
from portal_tui.domain.decision import Invalid, NotFound
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import FolderRow, InvoicePdfChange
from portal_tui.domain.states import DocumentSource, FieldType, FormRule, InvoiceStatus
from portal_tui.imports.pdfs import PdfFile, pdf_problem
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import (
    CalendarEvent,
    Document,
    Folder,
    IntakeForm,
    Invoice,
    InvoiceLine,
    Matter,
    Message,
    Note,
    Task,
)

from .base import Context, Service, check_unchanged, get_row, party_access
from .event_times import WHEN_FIELDS, event_when
from .share_rows import ItemModel, mark_of
from .sharing import SharingService

CLIENT_PORTAL_FOLDER = "Client Portal Documents"

# Which fields of a client or matter an intake form may fill.
FORM_TARGETS = frozenset(
    {
        "client.name",
        "client.primary_email",
        "client.phone",
        "client.address",
        "client.date_of_birth",
        "matter.name",
        "matter.description",
        "matter.practice_area",
    }
)

_EDITABLE: dict[ItemKind, tuple[str, ...]] = {
    ItemKind.INVOICE: ("number", "issued_on", "due_on", "memo", "paid_cents"),
    ItemKind.EVENT: ("title", *WHEN_FIELDS, "location", "description"),
    ItemKind.TASK: ("title", "due_on", "done", "assignee_id", "description"),
    ItemKind.NOTE: ("subject", "body"),
    ItemKind.DOCUMENT: ("name",),
    ItemKind.MESSAGE: ("subject", "body"),
    ItemKind.FORM: ("name", "description", "fields", "rule", "matter_id"),
}


def _required(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid(f"{what} cannot be blank.")
    return value


def _milli(quantity: Decimal | int | float | str) -> int:
    return int((Decimal(str(quantity)) * 1000).to_integral_value(ROUND_HALF_UP))


def check_form_fields(fields: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Intake form fields as stored, each checked: a known type, a unique key, a known target."""
    known = {t.value for t in FieldType}
    seen: set[str] = set()
    clean: list[dict[str, Any]] = []
    for i, f in enumerate(fields, 1):
        key = str(f.get("key", "")).strip()
        label = str(f.get("label", "")).strip() or key
        if not key:
            raise Invalid(f"Field {i} needs a key.")
        if key in seen:
            raise Invalid(f"Two fields share the key {key!r}.")
        seen.add(key)
        ftype = str(f.get("type", ""))
        if ftype not in known:
            raise Invalid(
                f"Field {label!r} has an unknown type {ftype!r}; "
                f"use one of {', '.join(sorted(known))}."
            )
        choices = [str(c) for c in f.get("choices") or []]
        if ftype == FieldType.CHOICE and not choices:
            raise Invalid(f"Choice field {label!r} needs at least one choice.")
        target = f.get("target") or None
        if target is not None and target not in FORM_TARGETS:
            raise Invalid(
                f"Field {label!r} fills {target!r}, which is not a client or "
                "matter field a form may fill."
            )
        clean.append(
            {
                "key": key,
                "label": label,
                "type": ftype,
                "required": bool(f.get("required", False)),
                "choices": choices,
                "target": target,
            }
        )
    return clean


class ItemsService(Service):
    """Adding, editing and deleting items, folders and documents; shares through `sharing`."""

    def __init__(self, ctx: Context, sharing: SharingService) -> None:
        super().__init__(ctx)
        self.sharing = sharing

    # Invoices ---------------------------------------------------------------------------------

    def add_invoice(
        self,
        matter_id: int,
        *,
        number: str,
        issued_on: date,
        lines: Sequence[tuple[str, Decimal | int | float | str, int]],
        due_on: date | None = None,
        status: InvoiceStatus = InvoiceStatus.DRAFT,
        paid_cents: int = 0,
        memo: str | None = None,
    ) -> int:
        """An invoice with its lines (description, quantity, rate in cents)."""
        number = _required(number, "Invoice number")
        taken = Invalid(f"An invoice numbered {number!r} already exists.")
        with self.db.write() as s:
            get_row(s, Matter, matter_id, "matter")
            if s.scalar(select(Invoice.id).where(Invoice.number == number)) is not None:
                raise taken
            inv = Invoice(
                matter_id=matter_id,
                number=number,
                issued_on=issued_on,
                due_on=due_on,
                status=status,
                paid_cents=paid_cents,
                memo=memo,
            )
            total = 0
            for pos, (desc, qty, rate) in enumerate(lines):
                milli = _milli(qty)
                amount = (milli * rate + 500) // 1000
                total += amount
                inv.lines.append(
                    InvoiceLine(
                        position=pos,
                        description=desc,
                        quantity_milli=milli,
                        rate_cents=rate,
                        amount_cents=amount,
                    )
                )
            inv.total_cents = total
            if not self.ctx.added(  # numbered so by someone else at the same moment: refused
                s,
                inv,
                "add",
                kind=ItemKind.INVOICE.value,
                matter_id=matter_id,
                after={"number": number, "status": status, "total_cents": total},
                unique=True,
            ):
                raise taken
            return inv.id

    # Events, tasks, notes: the Share box of the Add/Edit screen (S2) -------------------------

    def add_event(
        self,
        matter_id: int,
        *,
        title: str,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        location: str | None = None,
        description: str | None = None,
        share: bool = False,
        all_day: bool = False,
        first_day: date | None = None,
        last_day: date | None = None,
    ) -> int:
        """A timed event (starts_at, ends_at) or an all-day one (first_day to last_day, the
        times ignored)."""
        when = event_when(
            {
                "all_day": all_day,
                "first_day": first_day,
                "last_day": last_day,
                "starts_at": starts_at,
                "ends_at": ends_at,
            }
        )
        obj = CalendarEvent(
            matter_id=matter_id,
            title=_required(title, "Title"),
            location=location,
            description=description,
            **when,
        )
        return self._add(ItemKind.EVENT, obj, share)

    def add_task(
        self,
        matter_id: int,
        *,
        title: str,
        due_on: date | None = None,
        assignee_id: int | None = None,
        description: str | None = None,
        done: bool = False,
        share: bool = False,
    ) -> int:
        obj = Task(
            matter_id=matter_id,
            title=_required(title, "Title"),
            due_on=due_on,
            assignee_id=assignee_id,
            description=description,
            done=done,
        )
        return self._add(ItemKind.TASK, obj, share)

    def add_note(self, matter_id: int, *, subject: str, body: str, share: bool = False) -> int:
        obj = Note(
            matter_id=matter_id,
            subject=_required(subject, "Subject"),
            body=body,
            author_id=self.ctx.actor.staff_id,
            created_at=utcnow(),
        )
        return self._add(ItemKind.NOTE, obj, share)

    def add_message(
        self, matter_id: int, *, body: str, subject: str = "", share: bool = False
    ) -> int:
        """A staff message in the matter's thread with the client; restricted parties may not
        write one (M5). With share, it goes to the client at once (S5)."""
        actor = self.ctx.actor

        def not_restricted(s: Session) -> None:
            rules.m5_may_use_messages(party_access(s, matter_id, actor.staff_id)).check()

        obj = Message(
            matter_id=matter_id,
            author_staff_id=actor.staff_id,
            from_client=False,
            author_name=actor.login,
            subject=subject.strip(),
            body=_required(body, "Message"),
            sent_at=utcnow(),
        )
        return self._add(ItemKind.MESSAGE, obj, share, check=not_restricted)

    def _add(
        self,
        kind: ItemKind,
        obj: ItemModel,
        share: bool,
        *,
        check: Callable[[Session], None] | None = None,
    ) -> int:
        with self.db.write() as s:
            matter_id = getattr(obj, "matter_id", None)
            if matter_id is not None:
                get_row(s, Matter, matter_id, "matter")
            if check is not None:
                check(s)
            self.ctx.added(
                s,
                obj,
                "add",
                kind=kind.value,
                matter_id=matter_id,
                after={f: getattr(obj, f) for f in _EDITABLE[kind]},
            )
            if share:
                self.sharing.share_locked(s, kind, obj, confirmed=False)
            return obj.id

    def edit_item(
        self,
        kind: ItemKind,
        item_id: int,
        *,
        share: bool | None = None,
        expected_version: int | None = None,
        **changes: Any,
    ) -> str | None:
        """Save an Edit screen: the field changes and the Share box in one transaction (S2).

        Returns the share message when the box changed the item's share, else None. A shared
        item that changed is published again so the client sees the new version. With
        `expected_version` (the item's `edit_version` when the screen read it), a Save after
        someone else's is refused with EditConflict, and nothing is written.
        """
        unknown = set(changes) - set(_EDITABLE[kind])
        if unknown:
            raise Invalid(f"{kind.label.capitalize()} has no field(s) {sorted(unknown)}.")
        for field in ("title", "subject", "number", "name"):
            if field in changes:
                changes[field] = _required(str(changes[field]), field.capitalize())
        if kind is ItemKind.FORM and "fields" in changes:
            changes["fields"] = check_form_fields(changes["fields"])
        with self.db.write() as s:
            obj = self.sharing.lock(s, kind, item_id)
            check_unchanged(
                s,
                obj.edit_version,
                expected_version,
                what=kind.label,
                kind=kind.value,
                item_id=item_id,
            )
            matter_id = getattr(obj, "matter_id", None)
            if isinstance(obj, CalendarEvent) and not set(WHEN_FIELDS).isdisjoint(changes):
                # What the screen left out stays as it was; together they are checked whole.
                when = {f: changes.get(f, getattr(obj, f)) for f in WHEN_FIELDS}
                changes.update(event_when(when))
            if isinstance(obj, Message):
                rules.m5_may_use_messages(
                    party_access(s, obj.matter_id, self.ctx.actor.staff_id)
                ).check()
            changed = self.ctx.apply(s, obj, changes, "edit", kind.value, item_id, matter_id)
            return self.sharing.set_shared(s, kind, obj, share, changed=bool(changed))

    def delete_item(self, kind: ItemKind, item_id: int) -> None:
        """Delete an item; a shared one is first taken off the portal (same transaction)."""
        with self.db.write() as s:
            obj = self.sharing.lock(s, kind, item_id)
            matter_id = getattr(obj, "matter_id", None)
            mark = mark_of(s, kind, item_id)
            if mark is not None:
                if mark.wanted:
                    rules.may_unshare(self.ctx.actor.role, kind).check()
                    self.sharing.revoke(s, kind, obj, mark, batch=None)
                s.delete(mark)
            self.ctx.audit(
                s,
                "delete",
                kind=kind.value,
                item_id=item_id,
                matter_id=matter_id,
                before={f: getattr(obj, f) for f in _EDITABLE[kind]},
            )
            s.delete(obj)

    # Documents: stored, or linked from a folder on disk (S3) --------------------------------

    def add_folder(self, matter_id: int, name: str, *, linked_path: str | None = None) -> int:
        name = _required(name, "Folder name")
        if linked_path is not None and not Path(linked_path).is_dir():
            raise Invalid(f"The linked folder {linked_path!r} does not exist.")
        with self.db.write() as s:
            get_row(s, Matter, matter_id, "matter")
            folder = Folder(matter_id=matter_id, name=name, linked_path=linked_path)
            self.ctx.added(
                s,
                folder,
                "folder.add",
                kind="folder",
                matter_id=matter_id,
                after={"name": name, "linked_path": linked_path},
            )
            return folder.id

    def client_portal_folder(self, matter_id: int) -> int:
        """The matter's "Client Portal Documents" folder, made on first need (once, however
        many staff and relays need it at the same moment)."""
        with self.db.read() as s:
            found = s.scalar(
                select(Folder.id).where(
                    Folder.matter_id == matter_id, Folder.name == CLIENT_PORTAL_FOLDER
                )
            )
            if found is not None:
                return found
        try:
            return self.add_folder(matter_id, CLIENT_PORTAL_FOLDER)
        except IntegrityError:
            return self.client_portal_folder(matter_id)

    def folders(self, matter_id: int) -> list[FolderRow]:
        with self.db.read() as s:
            rows = s.scalars(
                select(Folder).where(Folder.matter_id == matter_id).order_by(Folder.name)
            )
            return [FolderRow(f.id, f.matter_id, f.name, f.linked_path) for f in rows]

    def add_document(
        self,
        matter_id: int,
        folder_id: int,
        *,
        name: str,
        content: bytes,
        content_type: str | None = None,
        from_client: bool = False,
        share: bool = False,
    ) -> int:
        """A stored file: its bytes live in the firm database."""
        name = _required(name, "File name")
        if not content:
            raise Invalid("An empty file cannot be added.")
        doc = stored_document(
            matter_id, folder_id, name, content, content_type, from_client=from_client
        )
        return self._add_document(doc, share)

    def link_document(self, matter_id: int, folder_id: int, *, linked_name: str) -> int:
        """A file that lives in a linked folder (a document integration); only its name and
        fingerprint are kept here."""
        with self.db.read() as s:
            folder = get_row(s, Folder, folder_id, "folder")
            if folder.linked_path is None:
                raise Invalid(f"The folder {folder.name!r} is not linked to a folder on disk.")
            path = _inside(Path(folder.linked_path), linked_name)
        if not path.is_file():
            raise NotFound(f"No file {linked_name!r} in the linked folder {folder.linked_path}.")
        data = path.read_bytes()
        doc = Document(
            matter_id=matter_id,
            folder_id=folder_id,
            name=path.name,
            source=DocumentSource.LINKED,
            linked_name=linked_name,
            content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=utcnow(),
        )
        return self._add_document(doc, share=False)

    def _add_document(self, doc: Document, share: bool) -> int:
        def same_matter(s: Session) -> None:
            folder = get_row(s, Folder, doc.folder_id, "folder")
            if folder.matter_id != doc.matter_id:
                raise Invalid("The folder belongs to another matter.")

        return self._add(ItemKind.DOCUMENT, doc, share, check=same_matter)

    def document_content(self, document_id: int) -> bytes:
        """A document's bytes, from the database or from its linked folder."""
        with self.db.read() as s:
            doc = get_row(s, Document, document_id, "document")
            if doc.source is DocumentSource.STORED:
                return doc.content or b""
            folder = get_row(s, Folder, doc.folder_id, "folder")
            assert folder.linked_path is not None
            assert doc.linked_name is not None
            path = _inside(Path(folder.linked_path), doc.linked_name)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise NotFound(
                f"The linked file {doc.linked_name!r} cannot be read: {exc.strerror}."
            ) from exc

    def set_invoice_pdf(
        self, number: str, pdf: PdfFile | None, *, limit_bytes: int
    ) -> InvoicePdfChange:
        """Attach the firm's own PDF to an invoice (or replace it), or with None remove it: the
        client then downloads that PDF instead of the one made from the lines. Audited; a
        shared invoice is published again. The roles that share invoices may (R1)."""
        rules.r1_may_share(self.ctx.actor.role, ItemKind.INVOICE).check()
        digest: str | None = None
        if pdf is not None:
            problem = pdf_problem(pdf.content, limit_bytes)
            if problem is not None:
                raise Invalid(f"{pdf.name}: {problem}; nothing was changed.")
            digest = hashlib.sha256(pdf.content).hexdigest()
        with self.db.write() as s:
            invoice_id = s.scalar(select(Invoice.id).where(Invoice.number == number))
            if invoice_id is None:
                raise NotFound(f"No invoice numbered {number!r}.")
            invoice = self.sharing.lock(s, ItemKind.INVOICE, invoice_id)
            assert isinstance(invoice, Invoice)
            if invoice.pdf_sha256 == digest:
                return InvoicePdfChange(number, digest, changed=False, republished=False)
            after: dict[str, Any] = {"pdf_sha256": digest}
            if pdf is not None:
                after["pdf_file"] = pdf.name
            self.ctx.audit(
                s,
                "invoice.pdf",
                kind=ItemKind.INVOICE.value,
                item_id=invoice.id,
                matter_id=invoice.matter_id,
                before={"pdf_sha256": invoice.pdf_sha256},
                after=after,
            )
            invoice.pdf = pdf.content if pdf is not None else None
            invoice.pdf_sha256 = digest
            s.flush()
            mark = mark_of(s, ItemKind.INVOICE, invoice.id)
            shared = mark is not None and mark.wanted
            self.sharing.set_shared(s, ItemKind.INVOICE, invoice, None, changed=True)
            return InvoicePdfChange(number, digest, changed=True, republished=shared)

    def invoice_pdf(self, invoice_id: int) -> bytes | None:
        """An invoice's own PDF, if the firm attached one (what the client downloads)."""
        with self.db.read() as s:
            return s.scalar(select(Invoice.pdf).where(Invoice.id == invoice_id))

    # Intake forms ----------------------------------------------------------------------------

    def add_form(
        self,
        name: str,
        *,
        fields: Sequence[dict[str, Any]],
        rule: FormRule,
        matter_id: int | None = None,
        description: str | None = None,
    ) -> int:
        if rule is FormRule.ASSOCIATE and matter_id is None:
            raise Invalid("A form that associates with an existing matter must name the matter.")
        form = IntakeForm(
            name=_required(name, "Form name"),
            description=description,
            fields=check_form_fields(fields),
            rule=rule,
            matter_id=matter_id if rule is FormRule.ASSOCIATE else None,
            created_at=utcnow(),
        )
        return self._add(ItemKind.FORM, form, share=False)


def stored_document(
    matter_id: int,
    folder_id: int,
    name: str,
    content: bytes,
    content_type: str | None,
    *,
    from_client: bool = False,
    created_at: datetime | None = None,
    portal_ref: str | None = None,
) -> Document:
    """A document whose bytes live in the firm database, fingerprinted and typed."""
    return Document(
        matter_id=matter_id,
        folder_id=folder_id,
        name=name,
        source=DocumentSource.STORED,
        content_type=content_type or mimetypes.guess_type(name)[0] or "application/octet-stream",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        from_client=from_client,
        created_at=created_at or utcnow(),
        portal_ref=portal_ref,
    )


def _inside(folder: Path, name: str) -> Path:
    """A path within the linked folder; a name that climbs out of it is refused."""
    base = folder.resolve()
    path = (base / name).resolve()
    if base != path and base not in path.parents:
        raise Invalid(f"{name!r} is outside the linked folder.")
    return path
