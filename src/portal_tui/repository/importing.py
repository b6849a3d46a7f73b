"""Bringing in a firm's own data (docs/importing.md): the records `portal_tui.imports` read
from its files, written in one transaction per file, matched on the firm's own ids — a
client's CLIENT_ID (`clients.ref`), a matter's number, an invoice's number, an event's UID, a
contact's matter and email, a document's folder and name. A second import of the same file
changes nothing; a changed row updates the item and, if it is shared, publishes it again. A
row that cannot be taken (a matter's client not in the firm) refuses the whole file, every
such line named; a dry run does all the work and rolls back, so what it reports is exactly
what `apply` would do. Invoices may bring the firm's own PDF of each (`Pdfs`): kept on the
invoice, matched by its fingerprint, so the same PDF again changes nothing and another one
publishes a shared invoice again.

A file of 100,000 rows is read and written a chunk at a time: one query per chunk finds the
rows the firm has, new rows go in with one multi-row INSERT (and their audit entries with
another), and nothing is flushed row by row. `progress(done, total)`, when given, hears after
each chunk; the repository prints nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from portal_tui.domain import rules
from portal_tui.domain.decision import Refused
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import ContactStatus, DocumentSource, InvoiceStatus, MatterStatus
from portal_tui.imports.pdfs import PdfFile, Pdfs, pdfs_for
from portal_tui.imports.records import (
    ClientRecord,
    ContactRecord,
    DocumentRecord,
    EventRecord,
    FileRefused,
    InvoiceRecord,
    MatterRecord,
    Refusal,
)
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import (
    CalendarEvent,
    Client,
    Document,
    Folder,
    Invoice,
    InvoiceLine,
    Matter,
    PortalContact,
    StaffUser,
)

from .base import ITSELF, Context, Service, firm_portal, matter_portal_of
from .contacts import ContactsService
from .event_times import event_when
from .sharing import SharingService

_DRAFT = {"draft", "unbilled", "pending", "unissued", ""}
_FINAL = {"final", "sent", "issued", "billed", "open", "due", "overdue", "unpaid", "paid"}

# Rows per chunk: one lookup query and one INSERT each. Well under SQLite's 32,766 bound
# parameters and PostgreSQL's 65,535 for a chunk's IN list and its multi-row INSERT.
CHUNK = 1000

# Where an imported file goes when the command names no folder: the matter's own documents.
STAFF_DOCUMENTS_FOLDER = "Documents"

_LINES = cast(Table, InvoiceLine.__table__)  # its Core table: a chunk's lines in one INSERT

Progress = Callable[[int, int], None]  # (rows done, rows in the file)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did (or, in a dry run, would do): each row added or changed, by the
    firm's own id, and how many were already as the file says."""

    what: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int
    applied: bool
    # Invoices that get a PDF of their own, or another one (by number); already added or
    # changed.
    pdfs: tuple[str, ...] = ()


@dataclass(slots=True)
class _Tally:
    total: int
    progress: Progress | None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    pdfs: list[str] = field(default_factory=list)
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)
    done: int = 0

    def advance(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction: everything it wrote is rolled back."""


def _chunks(rows: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _first(t: _Tally, seen: dict[str, int], key: str, line: int, what: str) -> bool:
    """Whether this is the file's first row for `key`; a second one is refused."""
    if key in seen:
        t.refused.append(Refusal(line, f"{what} {key} is also on line {seen[key]}"))
        return False
    seen[key] = line
    return True


def _said(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields a row gives a value: a blank cell or a column the file lacks leaves what the
    firm has as it is (an export without emails must not erase them)."""
    return {k: v for k, v in fields.items() if v is not None}


def _milli(quantity: str) -> int:
    return int((Decimal(quantity) * 1000).to_integral_value(ROUND_HALF_UP))


def _ids(s: Session, key: InstrumentedAttribute[Any], keys: Iterable[str]) -> dict[str, int]:
    """The ids of the rows whose `key` column is one of `keys` (one query)."""
    model = key.class_
    wanted = set(keys)
    if not wanted:
        return {}
    return {k: i for k, i in s.execute(select(key, model.id).where(key.in_(wanted)))}


class _Staff:
    """The firm's staff users, to find a matter's responsible one by login, then email, then
    exact name (case aside), as exports name them."""

    def __init__(self, s: Session) -> None:
        self.by: list[dict[str, int | None]] = [{}, {}, {}]
        for staff in s.scalars(select(StaffUser)):
            for index, value in enumerate((staff.login, staff.email, staff.name)):
                key = value.strip().casefold()
                # A name two staff share finds neither (None): it must be told apart.
                self.by[index][key] = None if key in self.by[index] else staff.id

    def find(self, value: str) -> int | str:
        """The staff user's id, or why there is none."""
        key = value.strip().casefold()
        for table in self.by:
            if key in table:
                found = table[key]
                if found is None:
                    return f"responsible staff {value!r} names more than one staff user"
                return found
        return (
            f"responsible staff {value!r} is no staff user of the firm (a login, email or "
            "name): add them with `portal-tui staff add` first"
        )


class ImportService(Service):
    """The `portal-tui import` commands' writes."""

    def __init__(self, ctx: Context, sharing: SharingService, contacts: ContactsService) -> None:
        super().__init__(ctx)
        self.sharing = sharing  # a changed item that is shared is published again
        self.contacts = contacts  # an imported contact is invited as on screen (C1)

    def _run(
        self,
        what: str,
        name: str,
        apply: bool,
        total: int,
        progress: Progress | None,
        work: Callable[[Session, _Tally], None],
    ) -> ImportReport:
        # Importing is managing the firm's data: the roles that manage the portal (R1).
        rules.r1_may_manage_portal(self.ctx.actor.role).check()
        tally = _Tally(total, progress)
        try:
            with self.db.write() as s:
                work(s, tally)
                if tally.refused:
                    raise FileRefused(
                        name, sorted(tally.refused, key=lambda r: (r.line, r.where or ""))
                    )
                if not apply:
                    raise _DryRun
        except _DryRun:
            pass
        return ImportReport(
            what,
            tuple(tally.added),
            tuple(tally.changed),
            tally.unchanged,
            apply,
            tuple(tally.pdfs),
        )

    def _changed(
        self,
        s: Session,
        obj: Any,
        changes: dict[str, Any],
        kind: str,
        item_id: int,
        mid: int | None,
    ) -> bool:
        return bool(self.ctx.apply(s, obj, changes, f"{kind}.import", kind, item_id, mid))

    # Clients --------------------------------------------------------------------------------

    def import_clients(
        self,
        records: Sequence[ClientRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
    ) -> ImportReport:
        def work(s: Session, t: _Tally) -> None:
            seen: dict[str, int] = {}
            for chunk in _chunks(records):
                have = {
                    c.ref: c
                    for c in s.scalars(
                        select(Client).where(Client.ref.in_({r.client_id for r in chunk}))
                    )
                }
                new: list[dict[str, Any]] = []
                for r in chunk:
                    if not _first(t, seen, r.client_id, r.line, "client"):
                        continue
                    fields = _said(
                        {
                            "name": r.name,
                            "primary_email": r.email,
                            "phone": r.phone,
                            "address": r.address,
                            "date_of_birth": r.date_of_birth,
                        }
                    )
                    client = have.get(r.client_id)
                    if client is None:
                        new.append({"ref": r.client_id, **fields})
                        t.added.append(r.client_id)
                    elif self._changed(s, client, fields, "client", client.id, None):
                        t.changed.append(r.client_id)
                    else:
                        t.unchanged += 1
                if not t.refused:  # a refused file writes nothing: no need to insert
                    self.ctx.added_many(
                        s,
                        Client.ref,
                        new,
                        "client.import",
                        kind="client",
                        matter_ids=[None] * len(new),
                        afters=[{k: v for k, v in row.items() if k != "ref"} for row in new],
                    )
                t.advance(len(chunk))

        return self._run("clients", name, apply, len(records), progress, work)

    # Matters --------------------------------------------------------------------------------

    def import_matters(
        self,
        records: Sequence[MatterRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
    ) -> ImportReport:
        def work(s: Session, t: _Tally) -> None:
            staff = _Staff(s) if any(r.responsible for r in records) else None
            seen: dict[str, int] = {}
            for chunk in _chunks(records):
                clients = _ids(s, Client.ref, (r.client_id for r in chunk))
                have = {
                    m.number: m
                    for m in s.scalars(
                        select(Matter).where(Matter.number.in_({r.number for r in chunk}))
                    )
                }
                new: list[dict[str, Any]] = []
                for r in chunk:
                    if not _first(t, seen, r.number, r.line, "matter"):
                        continue
                    fields = self._matter_fields(t, r, clients, staff)
                    if fields is None:
                        continue
                    matter = have.get(r.number)
                    if matter is None:
                        fields.setdefault("status", MatterStatus.OPEN)
                        new.append({"number": r.number, "portal_enabled": False, **fields})
                        t.added.append(r.number)
                    elif self._changed(s, matter, fields, "matter", matter.id, matter.id):
                        t.changed.append(r.number)
                    else:
                        t.unchanged += 1
                if not t.refused:
                    self.ctx.added_many(
                        s,
                        Matter.number,
                        new,
                        "matter.import",
                        kind="matter",
                        matter_ids=ITSELF,
                        afters=[
                            {k: v for k, v in row.items() if k not in ("number", "portal_enabled")}
                            for row in new
                        ],
                    )
                t.advance(len(chunk))

        return self._run("matters", name, apply, len(records), progress, work)

    @staticmethod
    def _matter_fields(
        t: _Tally, r: MatterRecord, clients: dict[str, int], staff: _Staff | None
    ) -> dict[str, Any] | None:
        """The fields a matters row sets, or None (and its refusal) when it cannot be taken."""
        client_id = clients.get(r.client_id)
        if client_id is None:
            t.refused.append(
                Refusal(
                    r.line, f"client {r.client_id} is not in the firm: import the clients first"
                )
            )
            return None
        responsible_id: int | None = None
        if r.responsible is not None and staff is not None:
            found = staff.find(r.responsible)
            if isinstance(found, str):
                t.refused.append(Refusal(r.line, found))
                return None
            responsible_id = found
        return _said(
            {
                "name": r.name,
                "client_id": client_id,
                "practice_area": r.practice_area,
                "description": r.description,
                "opened_on": r.opened_on,
                "responsible_id": responsible_id,
                "status": None
                if r.closed is None
                else MatterStatus.CLOSED
                if r.closed
                else MatterStatus.OPEN,
            }
        )

    # Contacts -------------------------------------------------------------------------------

    def import_contacts(
        self,
        records: Sequence[ContactRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Each row invites its person on the matter it names, or on every matter of the
        client whose portal is ON; one already invited (not removed) with that email is left
        as it is, or renamed. The invitation is the one Invite Contact sends (C1, M1)."""
        rules.c1_may_invite(self.ctx.actor.role).check()

        def work(s: Session, t: _Tally) -> None:
            firm = firm_portal(s)
            seen: dict[tuple[int, int], int] = {}
            for chunk in _chunks(records):
                clients = _ids(s, Client.ref, (r.client_id for r in chunk))
                numbers = {r.matter for r in chunk if r.matter}
                matters = {
                    m.number: m for m in s.scalars(select(Matter).where(Matter.number.in_(numbers)))
                }
                portal_on: dict[int, list[Matter]] = {}
                for m in s.scalars(
                    select(Matter)
                    .where(
                        Matter.client_id.in_(
                            {clients[r.client_id] for r in chunk if r.client_id in clients}
                        ),
                        Matter.portal_enabled.is_(True),
                    )
                    .order_by(Matter.number)
                ):
                    portal_on.setdefault(m.client_id, []).append(m)
                for r in chunk:
                    self._contact_row(s, t, r, firm, clients, matters, portal_on, seen)
                t.advance(len(chunk))

        return self._run("contacts", name, apply, len(records), progress, work)

    def _contact_row(
        self,
        s: Session,
        t: _Tally,
        r: ContactRecord,
        firm: Any,
        clients: dict[str, int],
        matters: dict[str, Matter],
        portal_on: dict[int, list[Matter]],
        seen: dict[tuple[int, int], int],
    ) -> None:
        client_id = clients.get(r.client_id)
        if client_id is None:
            t.refused.append(
                Refusal(
                    r.line, f"client {r.client_id} is not in the firm: import the clients first"
                )
            )
            return
        if r.matter is not None:
            matter = matters.get(r.matter)
            if matter is None:
                t.refused.append(Refusal(r.line, f"matter {r.matter} is not in the firm"))
                return
            if matter.client_id != client_id:
                t.refused.append(
                    Refusal(r.line, f"matter {r.matter} is another client's, not {r.client_id}'s")
                )
                return
            on = rules.m1_portal_on(firm, matter_portal_of(matter))
            if not on:
                t.refused.append(Refusal(r.line, f"matter {r.matter}: {on.message}"))
                return
            targets = [matter]
        else:
            targets = portal_on.get(client_id, []) if firm.enabled else []
            if not targets:
                t.refused.append(
                    Refusal(
                        r.line,
                        f"client {r.client_id} has no matter whose client portal is ON (M1): "
                        "name the matter, or turn its portal ON first",
                    )
                )
                return
        for matter in targets:
            key = (matter.id, client_id)
            if key in seen:
                t.refused.append(
                    Refusal(
                        r.line,
                        f"client {r.client_id} on matter {matter.number} is also on line "
                        f"{seen[key]}",
                    )
                )
                continue
            seen[key] = r.line
            self._contact(s, t, r, matter, client_id)

    def _contact(
        self, s: Session, t: _Tally, r: ContactRecord, matter: Matter, client_id: int
    ) -> None:
        label = f"{r.email} on {matter.number}"
        contact = s.scalar(
            select(PortalContact)
            .where(PortalContact.matter_id == matter.id, PortalContact.client_id == client_id)
            .with_for_update()
        )
        if contact is None or contact.status is ContactStatus.REMOVED:
            if t.refused:
                return  # the file is refused already: nothing of it is written
            try:
                self.contacts.invite_in(s, matter.id, client_id, name=r.name, email=r.email)
            except Refused as refused:
                t.refused.append(Refusal(r.line, f"matter {matter.number}: {refused.message}"))
                return
            t.added.append(label)
        elif contact.email.strip().casefold() != r.email.strip().casefold():
            t.refused.append(
                Refusal(
                    r.line,
                    f"client {r.client_id} is already a portal contact on matter "
                    f"{matter.number} with the email {contact.email}: remove that access "
                    "first to invite another address (C3)",
                )
            )
        elif contact.name != r.name:
            self.contacts.rename_in(s, contact, r.name, "contact.import")
            t.changed.append(label)
        else:
            t.unchanged += 1

    # Documents ------------------------------------------------------------------------------

    def import_documents(
        self,
        matter_number: str,
        records: Sequence[DocumentRecord],
        *,
        name: str,
        apply: bool,
        linked_path: Path | None = None,
        folder_name: str = STAFF_DOCUMENTS_FOLDER,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Files into a matter's documents: stored in `folder_name` (bytes in the database),
        or, with `linked_path`, kept on disk in that folder linked to the matter (S3: shared
        like stored ones). Matched on folder and name; a file whose bytes changed is updated,
        and published again if it is shared."""

        def work(s: Session, t: _Tally) -> None:
            matter_id = s.scalar(select(Matter.id).where(Matter.number == matter_number))
            if matter_id is None:
                t.refused.append(Refusal(1, f"matter {matter_number} is not in the firm"))
                return
            if t.refused:
                return
            folder = self._folder(s, matter_id, folder_name, linked_path)
            linked = folder.linked_path is not None
            by = Document.linked_name if linked else Document.name
            have = {
                (d.linked_name if linked else d.name): d
                for d in s.scalars(
                    select(Document).where(
                        Document.folder_id == folder.id,
                        Document.source
                        == (DocumentSource.LINKED if linked else DocumentSource.STORED),
                        by.in_({(r.linked_name if linked else r.name) for r in records}),
                    )
                )
            }
            seen: dict[str, int] = {}
            for r in records:
                key = r.linked_name if linked and r.linked_name else r.name
                if not _first(t, seen, key, r.line, "document"):
                    continue
                self._document(s, t, r, matter_id, folder, have.get(key), key)
                t.advance(1)

        return self._run("documents", name, apply, len(records), progress, work)

    def _folder(
        self, s: Session, matter_id: int, folder_name: str, linked_path: Path | None
    ) -> Folder:
        """The matter's folder the files go in, made on first need (audited as folder.add):
        the linked folder of that path, or the named folder of stored documents."""
        if linked_path is not None:
            path = str(linked_path.resolve())
            found = s.scalar(
                select(Folder).where(Folder.matter_id == matter_id, Folder.linked_path == path)
            )
            wanted = linked_path.resolve().name or path
            taken = set(s.scalars(select(Folder.name).where(Folder.matter_id == matter_id)))
            # Folder names are one per matter: a linked folder named as another gets its path.
            folder_name = wanted if wanted not in taken else f"{wanted} ({path})"[:200]
        else:
            path = None
            found = s.scalar(
                select(Folder).where(
                    Folder.matter_id == matter_id,
                    Folder.name == folder_name,
                    Folder.linked_path.is_(None),
                )
            )
        if found is not None:
            return found
        folder = Folder(matter_id=matter_id, name=folder_name, linked_path=path)
        if not self.ctx.added(
            s,
            folder,
            "folder.add",
            kind="folder",
            matter_id=matter_id,
            after={"name": folder_name, "linked_path": path},
            unique=True,
        ):
            # Another import made it at the same moment: theirs is the one.
            again = s.scalar(
                select(Folder).where(Folder.matter_id == matter_id, Folder.name == folder_name)
            )
            assert again is not None
            return again
        return folder

    def _document(
        self,
        s: Session,
        t: _Tally,
        r: DocumentRecord,
        matter_id: int,
        folder: Folder,
        doc: Document | None,
        key: str,
    ) -> None:
        linked = folder.linked_path is not None
        if doc is None:
            row = Document(
                matter_id=matter_id,
                folder_id=folder.id,
                name=r.name[:300],
                source=DocumentSource.LINKED if linked else DocumentSource.STORED,
                content_type=r.content_type,
                size=r.size,
                sha256=r.sha256,
                content=None if linked else r.content,
                linked_name=r.linked_name if linked else None,
                created_at=utcnow(),
            )
            self.ctx.added(
                s,
                row,
                "document.import",
                kind=ItemKind.DOCUMENT.value,
                matter_id=matter_id,
                after={"name": row.name, "folder": folder.name, "size": r.size},
            )
            t.added.append(key)
            return
        if doc.sha256 == r.sha256 and doc.size == r.size:
            t.unchanged += 1
            return
        changes: dict[str, Any] = {"sha256": r.sha256, "size": r.size}
        if not linked:
            changes["content"] = r.content
        before = {"sha256": doc.sha256, "size": doc.size}
        for k, v in changes.items():
            setattr(doc, k, v)
        self.ctx.audit(
            s,
            "document.import",
            kind=ItemKind.DOCUMENT.value,
            item_id=doc.id,
            matter_id=matter_id,
            before=before,
            after={"sha256": r.sha256, "size": r.size},
        )
        s.flush()
        # Shared already: the client gets the new bytes (S3, as S2 for every edit).
        self.sharing.set_shared(s, ItemKind.DOCUMENT, doc, None, changed=True)
        t.changed.append(key)

    # Invoices -------------------------------------------------------------------------------

    def import_invoices(
        self,
        records: Sequence[InvoiceRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
        pdfs: Pdfs | None = None,
    ) -> ImportReport:
        """`pdfs`: the firm's own PDFs of some of the file's invoices; one that is not a PDF,
        too big, or names no invoice of the file refuses the whole import (PdfsRefused)."""

        def work(s: Session, t: _Tally) -> None:
            by_number = pdfs_for([r.number for r in records], pdfs, what=name) if pdfs else {}
            seen: dict[str, int] = {}
            for chunk in _chunks(records):
                matters = _ids(s, Matter.number, (r.matter for r in chunk))
                have = {
                    i.number: i
                    for i in s.scalars(
                        select(Invoice)
                        .where(Invoice.number.in_({r.number for r in chunk}))
                        .options(selectinload(Invoice.lines))
                        # Decided from and written back: no one else's change slips in between.
                        .with_for_update(of=Invoice)
                    )
                }
                new: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
                for r in chunk:
                    if not _first(t, seen, r.number, r.line, "invoice"):
                        continue
                    matter_id = matters.get(r.matter)
                    if matter_id is None:
                        t.refused.append(Refusal(r.line, f"matter {r.matter} is not in the firm"))
                        continue
                    status_text = (r.status or "draft").strip().casefold()
                    if status_text not in _DRAFT | _FINAL:
                        t.refused.append(
                            Refusal(r.line, f"status {r.status!r} is neither draft nor final")
                        )
                        continue
                    made = self._invoice(
                        s,
                        t,
                        r,
                        matter_id,
                        status_text,
                        have.get(r.number),
                        by_number.get(r.number),
                    )
                    if made is not None:
                        new.append(made)
                if not t.refused:
                    self._insert_invoices(s, new)
                t.advance(len(chunk))

        return self._run("invoices", name, apply, len(records), progress, work)

    def _insert_invoices(
        self, s: Session, new: list[tuple[dict[str, Any], list[dict[str, Any]]]]
    ) -> None:
        ids = self.ctx.added_many(
            s,
            Invoice.number,
            [row for row, _ in new],
            "invoice.import",
            kind=ItemKind.INVOICE.value,
            matter_ids=[row["matter_id"] for row, _ in new],
            afters=[
                {k: row[k] for k in ("number", "status", "total_cents", "pdf_sha256") if k in row}
                for row, _ in new
            ],
        )
        lines = [
            {"invoice_id": invoice_id, **line}
            for invoice_id, (_, invoice_lines) in zip(ids, new, strict=True)
            for line in invoice_lines
        ]
        if lines:
            s.execute(insert(_LINES), lines)

    def _invoice(
        self,
        s: Session,
        t: _Tally,
        r: InvoiceRecord,
        matter_id: int,
        status_text: str,
        invoice: Invoice | None,
        pdf: PdfFile | None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """A new invoice's row and lines, to insert with its chunk; or None, an invoice the
        firm has updated (and published again if shared) or left as it is."""
        lines = [(ln.description, _milli(ln.quantity), ln.rate_cents) for ln in r.lines] or [
            ("Invoice total", 1000, r.total_cents)
        ]
        amounts = [(milli * rate + 500) // 1000 for _, milli, rate in lines]
        status = InvoiceStatus.DRAFT if status_text in _DRAFT else InvoiceStatus.FINAL
        fields: dict[str, Any] = {
            "matter_id": matter_id,
            "issued_on": r.issued_on,
            "due_on": r.due_on,
            "status": status,
            "memo": r.memo,
            "total_cents": sum(amounts),
            "paid_cents": r.total_cents if status_text == "paid" else 0,
        }
        if r.status is None:
            # The file says nothing of it (LEDES has no status): a new invoice is a draft, and
            # one the firm has made Final (a share does, S1) stays so.
            del fields["status"], fields["paid_cents"]
            if invoice is None:
                fields |= {"status": InvoiceStatus.DRAFT, "paid_cents": 0}
        fields = _said(fields)
        digest = hashlib.sha256(pdf.content).hexdigest() if pdf is not None else None
        if invoice is None:
            t.added.append(r.number)
            row: dict[str, Any] = {"number": r.number, **fields}
            if pdf is not None:
                row |= {"pdf": pdf.content, "pdf_sha256": digest}
                t.pdfs.append(r.number)
            return row, self._line_rows(lines, amounts)
        same_lines = [
            (ln.description, ln.quantity_milli, ln.rate_cents) for ln in invoice.lines
        ] == lines
        changed = self._changed(s, invoice, fields, "invoice", invoice.id, matter_id)
        if not same_lines:
            invoice.lines.clear()
            s.flush()
            for row in self._line_rows(lines, amounts):
                invoice.lines.append(InvoiceLine(**row))
            self.ctx.audit(
                s, "invoice.import.lines", kind="invoice", item_id=invoice.id, matter_id=matter_id
            )
        # The same PDF again (by its fingerprint: the bytes stay unread) changes nothing.
        new_pdf = pdf is not None and invoice.pdf_sha256 != digest
        if new_pdf:
            assert pdf is not None
            self.ctx.audit(
                s,
                "invoice.import.pdf",
                kind="invoice",
                item_id=invoice.id,
                matter_id=matter_id,
                before={"pdf_sha256": invoice.pdf_sha256},
                after={"pdf_sha256": digest, "pdf_file": pdf.name},
            )
            invoice.pdf, invoice.pdf_sha256 = pdf.content, digest
            t.pdfs.append(r.number)
        if changed or not same_lines or new_pdf:
            s.flush()
            # Shared already: the client sees the new version (S2's rule for every edit).
            self.sharing.set_shared(s, ItemKind.INVOICE, invoice, None, changed=True)
            t.changed.append(r.number)
        else:
            t.unchanged += 1
        return None

    @staticmethod
    def _line_rows(lines: list[tuple[str, int, int]], amounts: list[int]) -> list[dict[str, Any]]:
        return [
            {
                "position": pos,
                "description": desc,
                "quantity_milli": milli,
                "rate_cents": rate,
                "amount_cents": amount,
            }
            for pos, ((desc, milli, rate), amount) in enumerate(zip(lines, amounts, strict=True))
        ]

    # Events ---------------------------------------------------------------------------------

    def import_events(
        self,
        matter_number: str,
        records: Sequence[EventRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
    ) -> ImportReport:
        def work(s: Session, t: _Tally) -> None:
            matter_id = s.scalar(select(Matter.id).where(Matter.number == matter_number))
            if matter_id is None:
                t.refused.append(Refusal(1, f"matter {matter_number} is not in the firm"))
                return
            have = {
                e.uid: e
                for e in s.scalars(
                    select(CalendarEvent).where(
                        CalendarEvent.matter_id == matter_id,
                        CalendarEvent.uid.in_([r.uid for r in records]),
                    )
                )
            }
            seen: dict[str, int] = {}
            for r in records:
                if not _first(t, seen, r.uid, r.line, "event"):
                    continue
                fields = _said(
                    {
                        "title": r.title[:300],
                        "starts_at": r.starts_at,
                        "ends_at": r.ends_at,
                        "location": r.location[:300] if r.location else None,
                        "description": r.description,
                    }
                )
                # Whole: a file that makes an event all day (or timed again) sets its days
                # (or clears them); an all-day event's instants are its days' midnights.
                fields.update(
                    event_when(
                        {
                            "all_day": r.all_day,
                            "first_day": r.first_day,
                            "last_day": r.last_day,
                            "starts_at": r.starts_at,
                            "ends_at": fields.get("ends_at"),
                        }
                    )
                )
                if fields["ends_at"] is None:
                    del fields["ends_at"]  # a file without an end leaves the one there
                event = have.get(r.uid)
                if event is None:
                    row = CalendarEvent(matter_id=matter_id, uid=r.uid, **fields)
                    self.ctx.added(
                        s, row, "event.import", kind="event", matter_id=matter_id, after=fields
                    )
                    t.added.append(r.uid)
                elif self._changed(s, event, fields, "event", event.id, matter_id):
                    s.flush()
                    self.sharing.set_shared(s, ItemKind.EVENT, event, None, changed=True)
                    t.changed.append(r.uid)
                else:
                    t.unchanged += 1
                t.advance(1)

        return self._run("events", name, apply, len(records), progress, work)
