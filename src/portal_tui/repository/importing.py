"""Bringing in a firm's own data (docs/importing.md): the records `portal_tui.imports` read
from its files, written in one transaction per file, matched on the firm's own ids — a
client's CLIENT_ID (`clients.ref`), a matter's number, an invoice's number, an event's UID.
A second import of the same file changes nothing; a changed row updates the item and, if it
is shared, publishes it again. A row that cannot be taken (a matter's client not in the firm)
refuses the whole file, every such line named; a dry run does all the work and rolls back, so
what it reports is exactly what `apply` would do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal_tui.domain import rules
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import InvoiceStatus, MatterStatus
from portal_tui.imports.records import (
    ClientRecord,
    EventRecord,
    FileRefused,
    InvoiceRecord,
    MatterRecord,
    Refusal,
)
from portal_tui.store.models import CalendarEvent, Client, Invoice, InvoiceLine, Matter

from .base import Context, Service
from .sharing import SharingService

_DRAFT = {"draft", "unbilled", "pending", "unissued", ""}
_FINAL = {"final", "sent", "issued", "billed", "open", "due", "overdue", "unpaid", "paid"}


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did (or, in a dry run, would do): each row added or changed, by the
    firm's own id, and how many were already as the file says."""

    what: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int
    applied: bool


@dataclass(slots=True)
class _Tally:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction: everything it wrote is rolled back."""


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


class ImportService(Service):
    """The `portal-tui import` commands' writes."""

    def __init__(self, ctx: Context, sharing: SharingService) -> None:
        super().__init__(ctx)
        self.sharing = sharing  # a changed item that is shared is published again

    def _run(
        self, what: str, name: str, apply: bool, work: Callable[[Session, _Tally], None]
    ) -> ImportReport:
        # Importing is managing the firm's data: the roles that manage the portal (R1).
        rules.r1_may_manage_portal(self.ctx.actor.role).check()
        tally = _Tally()
        try:
            with self.db.write() as s:
                work(s, tally)
                if tally.refused:
                    raise FileRefused(name, sorted(tally.refused, key=lambda r: r.line))
                if not apply:
                    raise _DryRun
        except _DryRun:
            pass
        return ImportReport(what, tuple(tally.added), tuple(tally.changed), tally.unchanged, apply)

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
        self, records: Sequence[ClientRecord], *, name: str, apply: bool
    ) -> ImportReport:
        def work(s: Session, t: _Tally) -> None:
            refs = [r.client_id for r in records]
            have = {c.ref: c for c in s.scalars(select(Client).where(Client.ref.in_(refs)))}
            seen: dict[str, int] = {}
            for r in records:
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
                    row = Client(ref=r.client_id, **fields)
                    self.ctx.added(s, row, "client.import", kind="client", after=fields)
                    t.added.append(r.client_id)
                elif self._changed(s, client, fields, "client", client.id, None):
                    t.changed.append(r.client_id)
                else:
                    t.unchanged += 1

        return self._run("clients", name, apply, work)

    # Matters --------------------------------------------------------------------------------

    def import_matters(
        self, records: Sequence[MatterRecord], *, name: str, apply: bool
    ) -> ImportReport:
        def work(s: Session, t: _Tally) -> None:
            refs = {r.client_id for r in records}
            clients = {
                ref: cid
                for ref, cid in s.execute(select(Client.ref, Client.id).where(Client.ref.in_(refs)))
            }
            numbers = [r.number for r in records]
            have = {
                m.number: m for m in s.scalars(select(Matter).where(Matter.number.in_(numbers)))
            }
            seen: dict[str, int] = {}
            for r in records:
                if not _first(t, seen, r.number, r.line, "matter"):
                    continue
                client_id = clients.get(r.client_id)
                if client_id is None:
                    t.refused.append(
                        Refusal(
                            r.line,
                            f"client {r.client_id} is not in the firm: import the clients first",
                        )
                    )
                    continue
                fields = _said(
                    {
                        "name": r.name,
                        "client_id": client_id,
                        "practice_area": r.practice_area,
                        "description": r.description,
                        "opened_on": r.opened_on,
                        "status": None
                        if r.closed is None
                        else MatterStatus.CLOSED
                        if r.closed
                        else MatterStatus.OPEN,
                    }
                )
                matter = have.get(r.number)
                if matter is None:
                    fields.setdefault("status", MatterStatus.OPEN)
                    row = Matter(number=r.number, portal_enabled=False, **fields)
                    self.ctx.added(s, row, "matter.import", kind="matter", after=fields)
                    t.added.append(r.number)
                elif self._changed(s, matter, fields, "matter", matter.id, matter.id):
                    t.changed.append(r.number)
                else:
                    t.unchanged += 1

        return self._run("matters", name, apply, work)

    # Invoices -------------------------------------------------------------------------------

    def import_invoices(
        self, records: Sequence[InvoiceRecord], *, name: str, apply: bool
    ) -> ImportReport:
        def work(s: Session, t: _Tally) -> None:
            matters = {
                n: mid
                for n, mid in s.execute(
                    select(Matter.number, Matter.id).where(
                        Matter.number.in_({r.matter for r in records})
                    )
                )
            }
            have = {
                i.number: i
                for i in s.scalars(
                    select(Invoice)
                    .where(Invoice.number.in_([r.number for r in records]))
                    .options(selectinload(Invoice.lines))
                )
            }
            seen: dict[str, int] = {}
            for r in records:
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
                self._invoice(s, t, r, matter_id, status_text, have.get(r.number))

        return self._run("invoices", name, apply, work)

    def _invoice(
        self,
        s: Session,
        t: _Tally,
        r: InvoiceRecord,
        matter_id: int,
        status_text: str,
        invoice: Invoice | None,
    ) -> None:
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
        if invoice is None:
            invoice = Invoice(number=r.number, **fields)
            self._set_lines(invoice, lines, amounts)
            self.ctx.added(
                s,
                invoice,
                "invoice.import",
                kind=ItemKind.INVOICE.value,
                matter_id=matter_id,
                after={"number": r.number, "status": status, "total_cents": sum(amounts)},
            )
            t.added.append(r.number)
            return
        same_lines = [
            (ln.description, ln.quantity_milli, ln.rate_cents) for ln in invoice.lines
        ] == lines
        changed = self._changed(s, invoice, fields, "invoice", invoice.id, matter_id)
        if not same_lines:
            invoice.lines.clear()
            s.flush()
            self._set_lines(invoice, lines, amounts)
            self.ctx.audit(
                s, "invoice.import.lines", kind="invoice", item_id=invoice.id, matter_id=matter_id
            )
        if changed or not same_lines:
            s.flush()
            # Shared already: the client sees the new version (S2's rule for every edit).
            self.sharing.set_shared(s, ItemKind.INVOICE, invoice, None, changed=True)
            t.changed.append(r.number)
        else:
            t.unchanged += 1

    @staticmethod
    def _set_lines(invoice: Invoice, lines: list[tuple[str, int, int]], amounts: list[int]) -> None:
        for pos, ((desc, milli, rate), amount) in enumerate(zip(lines, amounts, strict=True)):
            invoice.lines.append(
                InvoiceLine(
                    position=pos,
                    description=desc,
                    quantity_milli=milli,
                    rate_cents=rate,
                    amount_cents=amount,
                )
            )

    # Events ---------------------------------------------------------------------------------

    def import_events(
        self, matter_number: str, records: Sequence[EventRecord], *, name: str, apply: bool
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

        return self._run("events", name, apply, work)
