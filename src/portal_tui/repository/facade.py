"""The Repository: the one door to firm data, composed of one small service per subject.

Every service shares one `Context` (base.py): the firm's `Database` and the acting staff user,
who every audit entry names. `Repository` builds them once and hands each the ones it works
through (items and forms share through `sharing`, the feed lands through `sync` and
`portal_contacts`), then exposes each service's public methods under the names callers have
always used: each method below only passes its call on, so mypy sees every signature as the
service declares it. The services are attributes too (`repo.sharing`, `repo.delivery`, …),
for the tests and tools that reach one part directly.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.domain.kinds import Category, ItemKind
from portal_tui.domain.records import (
    AuditRow,
    ClientRow,
    ContactRow,
    ContactSignIns,
    DocumentRow,
    EventRow,
    FirmIdentity,
    FolderRow,
    FormRow,
    InvoiceLineRow,
    InvoicePdfChange,
    InvoiceRow,
    Key,
    MatterDetail,
    MatterPortalChange,
    MatterRow,
    MessageRow,
    NoteRow,
    Page,
    PartyRow,
    Share,
    ShareHistory,
    ShareRecord,
    StaffKeyRow,
    StaffRow,
    SubmissionRow,
    TaskRow,
)
from portal_tui.domain.rules import FirmPortal
from portal_tui.domain.ssh_keys import PublicKey
from portal_tui.domain.states import (
    ContactAction,
    FormRule,
    InvoiceStatus,
    MatterStatus,
    PartyAccess,
    ShareState,
    StaffRole,
    TwoFactorRequirement,
)
from portal_tui.imports.pdfs import PdfFile, Pdfs
from portal_tui.imports.records import (
    ClientRecord,
    ContactRecord,
    DocumentRecord,
    EventRecord,
    InvoiceRecord,
    MatterRecord,
)

from .base import Actor, Context
from .contacts import ContactsService
from .delivery import DeliveryReport, DeliveryService, Transport
from .feed_sync import FeedSource, FeedSyncService, SyncReport
from .firm import FirmService
from .forms import FormsService, IntakeFormRow
from .history import HistoryService
from .importing import STAFF_DOCUMENTS_FOLDER, ImportReport, ImportService, Progress
from .items import ItemsService
from .lists import ListsService
from .matters import MattersService
from .preview import MatterPreview, PreviewService
from .pruning import OutboxPruned, PruningService
from .resend import ResendService, RestoreReport
from .sharing import SharingService
from .sign_ins import SignInSource, SignInsService
from .staff import StaffService
from .staff_keys import StaffKeysService
from .sync import SyncService
from .undo import Held, UndoService


class Repository:
    """Everything the app may read or change. `staff_login` is the acting staff user; None
    acts as the built-in system actor (seeding, sync)."""

    def __init__(self, db: Database, staff_login: str | None = None) -> None:
        self.db = db
        self.ctx = Context(db, staff_login)
        self.firm = FirmService(self.ctx)
        self.staff = StaffService(self.ctx)
        self.staff_keys = StaffKeysService(self.ctx)
        self.sharing = SharingService(self.ctx)
        self.undoing = UndoService(self.ctx, self.sharing)
        self.matters = MattersService(self.ctx, self.sharing)
        self.portal_contacts = ContactsService(self.ctx)
        self.sign_ins = SignInsService(self.ctx)
        self.imports = ImportService(self.ctx, self.sharing, self.portal_contacts)
        self.items = ItemsService(self.ctx, self.sharing)
        self.forms = FormsService(self.ctx, self.sharing)
        self.lists = ListsService(self.ctx)
        self.history = HistoryService(self.ctx)
        self.preview = PreviewService(self.ctx)
        self.sync = SyncService(self.ctx)
        self.feed = FeedSyncService(self.ctx, self.sync, self.portal_contacts)
        self.delivery = DeliveryService(self.ctx)
        self.resend = ResendService(self.ctx, self.sharing)
        self.pruning = PruningService(self.ctx)

    @classmethod
    def open(cls, url: str, staff_login: str | None = None) -> Repository:
        """Open the firm database at `url`, bringing its schema up to date first."""
        from portal_tui.store.migrate import ensure_current

        db = Database(url)
        try:
            ensure_current(db)
        except BaseException:
            db.dispose()
            raise
        return cls(db, staff_login)

    def close(self) -> None:
        self.db.dispose()

    @property
    def actor(self) -> Actor:
        """The acting staff user, looked up once (see `Context.actor`)."""
        return self.ctx.actor

    def ping(self) -> None:
        """One round trip to the database: raises Unavailable while it is away."""
        with self.db.read() as s:
            s.execute(select(1))

    # FirmService ---------------------------------------------------------------------------

    def setup_firm(self, name: str) -> None:
        return self.firm.setup_firm(name)

    def firm_identity(self) -> FirmIdentity | None:
        return self.firm.firm_identity()

    def firm_name(self) -> str:
        return self.firm.firm_name()

    def firm_portal(self) -> FirmPortal:
        return self.firm.firm_portal()

    def set_firm_portal(
        self,
        *,
        enabled: bool | None = None,
        permissions: Iterable[Category] | None = None,
        notify_new_items: bool | None = None,
        daily_digest: bool | None = None,
        notify_staff_on_upload: bool | None = None,
        two_factor_required: TwoFactorRequirement | None = None,
        confirmed: bool = False,
    ) -> FirmPortal:
        return self.firm.set_firm_portal(
            enabled=enabled,
            permissions=permissions,
            notify_new_items=notify_new_items,
            daily_digest=daily_digest,
            notify_staff_on_upload=notify_staff_on_upload,
            two_factor_required=two_factor_required,
            confirmed=confirmed,
        )

    def add_staff(self, login: str, name: str, email: str, role: StaffRole) -> int:
        return self.firm.add_staff(login, name, email, role)

    # ImportService -------------------------------------------------------------------------

    def import_clients(
        self,
        records: Sequence[ClientRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
    ) -> ImportReport:
        return self.imports.import_clients(records, name=name, apply=apply, progress=progress)

    def import_matters(
        self,
        records: Sequence[MatterRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
    ) -> ImportReport:
        return self.imports.import_matters(records, name=name, apply=apply, progress=progress)

    def import_contacts(
        self,
        records: Sequence[ContactRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
    ) -> ImportReport:
        return self.imports.import_contacts(records, name=name, apply=apply, progress=progress)

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
        return self.imports.import_documents(
            matter_number,
            records,
            name=name,
            apply=apply,
            linked_path=linked_path,
            folder_name=folder_name,
            progress=progress,
        )

    def import_invoices(
        self,
        records: Sequence[InvoiceRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
        pdfs: Pdfs | None = None,
    ) -> ImportReport:
        return self.imports.import_invoices(
            records, name=name, apply=apply, progress=progress, pdfs=pdfs
        )

    def import_events(
        self,
        matter_number: str,
        records: Sequence[EventRecord],
        *,
        name: str,
        apply: bool,
        progress: Progress | None = None,
    ) -> ImportReport:
        return self.imports.import_events(
            matter_number, records, name=name, apply=apply, progress=progress
        )

    # StaffService --------------------------------------------------------------------------

    def firm_is_empty(self) -> bool:
        return self.staff.firm_is_empty()

    def init_firm(self, firm_name: str, login: str, name: str, email: str) -> int:
        return self.staff.init_firm(firm_name, login, name, email)

    def staff_user(self, login: str) -> StaffRow:
        return self.staff.staff_user(login)

    def set_staff_role(self, login: str, role: StaffRole) -> StaffRow:
        return self.staff.set_staff_role(login, role)

    def set_staff_active(self, login: str, active: bool) -> StaffRow:
        return self.staff.set_staff_active(login, active)

    def list_staff(self) -> list[StaffRow]:
        return self.firm.list_staff()

    def current_staff(self) -> StaffRow | None:
        return self.firm.current_staff()

    # StaffKeysService -----------------------------------------------------------------------

    def add_staff_key(self, login: str, key: PublicKey) -> tuple[StaffKeyRow, bool]:
        return self.staff_keys.add_staff_key(login, key)

    def remove_staff_key(self, login: str, fingerprint: str) -> StaffKeyRow:
        return self.staff_keys.remove_staff_key(login, fingerprint)

    def list_staff_keys(self, login: str | None = None) -> list[StaffKeyRow]:
        return self.staff_keys.staff_keys(login)

    def key_owner(self, fingerprint: str) -> StaffRow | None:
        return self.staff_keys.key_owner(fingerprint)

    def record_door(
        self, door: str, *, login: str | None, refused: str | None, address: str, **detail: Any
    ) -> None:
        self.staff_keys.record_door(door, login=login, refused=refused, address=address, **detail)

    # MattersService ------------------------------------------------------------------------

    def add_client(
        self,
        name: str,
        *,
        primary_email: str | None = None,
        phone: str | None = None,
        address: str | None = None,
        date_of_birth: date | None = None,
    ) -> int:
        return self.matters.add_client(
            name,
            primary_email=primary_email,
            phone=phone,
            address=address,
            date_of_birth=date_of_birth,
        )

    def edit_client(
        self, client_id: int, *, expected_version: int | None = None, **changes: Any
    ) -> ClientRow:
        return self.matters.edit_client(client_id, expected_version=expected_version, **changes)

    def client(self, client_id: int) -> ClientRow:
        return self.matters.client(client_id)

    def list_clients(
        self,
        text: str = "",
        *,
        after: Key | None = None,
        before: Key | None = None,
        limit: int = 50,
    ) -> Page[ClientRow]:
        return self.matters.list_clients(text, after=after, before=before, limit=limit)

    def add_matter(
        self,
        client_id: int,
        *,
        number: str,
        name: str,
        practice_area: str | None = None,
        description: str | None = None,
        opened_on: date | None = None,
        status: MatterStatus = MatterStatus.OPEN,
        responsible_id: int | None = None,
    ) -> int:
        return self.matters.add_matter(
            client_id,
            number=number,
            name=name,
            practice_area=practice_area,
            description=description,
            opened_on=opened_on,
            status=status,
            responsible_id=responsible_id,
        )

    def edit_matter(
        self,
        matter_id: int,
        *,
        expected_version: int | None = None,
        portal_off: bool | None = None,
        **changes: Any,
    ) -> MatterDetail:
        return self.matters.edit_matter(
            matter_id, expected_version=expected_version, portal_off=portal_off, **changes
        )

    def matter(self, matter_id: int) -> MatterDetail:
        return self.matters.matter(matter_id)

    def list_matters(
        self,
        text: str = "",
        *,
        after: Key | None = None,
        before: Key | None = None,
        limit: int = 50,
        portal_only: bool = False,
    ) -> Page[MatterRow]:
        return self.matters.list_matters(
            text, after=after, before=before, limit=limit, portal_only=portal_only
        )

    def client_portal_matters(self, client_id: int) -> list[MatterRow]:
        return self.matters.client_portal_matters(client_id)

    def set_matter_portal(
        self,
        matter_id: int,
        enabled: bool,
        *,
        confirmed: bool = False,
        republish: bool | None = None,
    ) -> MatterPortalChange:
        return self.matters.set_matter_portal(
            matter_id, enabled, confirmed=confirmed, republish=republish
        )

    def set_matter_permissions(self, matter_id: int, categories: Iterable[Category]) -> None:
        return self.matters.set_matter_permissions(matter_id, categories)

    def matter_permissions(self, matter_id: int) -> frozenset[Category]:
        return self.matters.matter_permissions(matter_id)

    def set_matter_sensitive(self, matter_id: int, sensitive: bool) -> None:
        return self.matters.set_matter_sensitive(matter_id, sensitive)

    def set_party_access(self, matter_id: int, staff_id: int, access: PartyAccess) -> None:
        return self.matters.set_party_access(matter_id, staff_id, access)

    def parties(self, matter_id: int) -> list[PartyRow]:
        return self.matters.parties(matter_id)

    def party_access(self, matter_id: int, staff_id: int | None = None) -> PartyAccess:
        return self.matters.party_access(matter_id, staff_id)

    # ContactsService -----------------------------------------------------------------------

    def invite_contact(self, matter_id: int, client_id: int, *, name: str, email: str) -> int:
        return self.portal_contacts.invite_contact(matter_id, client_id, name=name, email=email)

    def disable_contact(self, contact_id: int, *, expected_version: int | None = None) -> str:
        return self.portal_contacts.disable_contact(contact_id, expected_version=expected_version)

    def enable_contact(
        self, contact_id: int, *, confirmed: bool = False, expected_version: int | None = None
    ) -> str:
        return self.portal_contacts.enable_contact(
            contact_id, confirmed=confirmed, expected_version=expected_version
        )

    def remove_contact(
        self, contact_id: int, *, confirmed: bool = False, expected_version: int | None = None
    ) -> str:
        return self.portal_contacts.remove_contact(
            contact_id, confirmed=confirmed, expected_version=expected_version
        )

    def reset_two_factor(self, contact_id: int, *, confirmed: bool = False) -> str:
        return self.portal_contacts.reset_two_factor(contact_id, confirmed=confirmed)

    def reinvite_contact(self, contact_id: int, *, expected_version: int | None = None) -> str:
        return self.portal_contacts.reinvite_contact(contact_id, expected_version=expected_version)

    def edit_contact(
        self, contact_id: int, *, name: str, email: str, expected_version: int | None = None
    ) -> str:
        return self.portal_contacts.edit_contact(
            contact_id, name=name, email=email, expected_version=expected_version
        )

    def contacts(self, matter_id: int, *, include_removed: bool = True) -> list[ContactRow]:
        return self.portal_contacts.contacts(matter_id, include_removed=include_removed)

    def contact(self, contact_id: int) -> ContactRow:
        return self.portal_contacts.contact(contact_id)

    def contact_actions(self, contact_id: int) -> list[ContactAction]:
        return self.portal_contacts.contact_actions(contact_id)

    def record_contact_activated(self, contact_id: int, at: datetime) -> None:
        return self.portal_contacts.record_contact_activated(contact_id, at)

    def record_contact_login(self, contact_id: int, at: datetime) -> None:
        return self.portal_contacts.record_contact_login(contact_id, at)

    # SignInsService ------------------------------------------------------------------------

    def contact_sign_ins(self, contact_id: int, portal: SignInSource) -> ContactSignIns:
        return self.sign_ins.contact_sign_ins(contact_id, portal)

    def sign_out_everywhere(self, contact_id: int, portal: SignInSource) -> str:
        return self.sign_ins.sign_out_everywhere(contact_id, portal)

    # SharingService ------------------------------------------------------------------------

    def share(self, kind: ItemKind, item_id: int, *, confirmed: bool = False) -> str:
        return self.sharing.share(kind, item_id, confirmed=confirmed)

    def unshare(self, kind: ItemKind, item_id: int) -> str:
        return self.sharing.unshare(kind, item_id)

    def share_held(self, kind: ItemKind, item_id: int) -> Held:
        return self.sharing.share_held(kind, item_id)

    def unshare_held(self, kind: ItemKind, item_id: int) -> Held:
        return self.sharing.unshare_held(kind, item_id)

    def undo(self, undo_key: str) -> str:
        return self.undoing.undo(undo_key)

    def share_many(
        self,
        items: Iterable[tuple[ItemKind, int]],
        *,
        share: bool,
        confirmed: bool = True,
        batch: str | None = None,
        hold: bool = False,
    ) -> tuple[int, list[tuple[ItemKind, int, str]]]:
        return self.sharing.share_many(
            items, share=share, confirmed=confirmed, batch=batch, hold=hold
        )

    def new_batch(self) -> str:
        return self.sharing.new_batch()

    def unfinal_invoices(self, invoice_ids: Iterable[int]) -> int:
        return self.sharing.unfinal_invoices(invoice_ids)

    def share_state(self, kind: ItemKind, item_id: int) -> Share:
        return self.sharing.share_state(kind, item_id)

    def share_record(self, kind: ItemKind, item_id: int) -> ShareRecord | None:
        return self.sharing.share_record(kind, item_id)

    def audit_for_item(self, kind: str, item_id: int) -> list[AuditRow]:
        return self.sharing.audit_for_item(kind, item_id)

    # ItemsService --------------------------------------------------------------------------

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
        return self.items.add_invoice(
            matter_id,
            number=number,
            issued_on=issued_on,
            lines=lines,
            due_on=due_on,
            status=status,
            paid_cents=paid_cents,
            memo=memo,
        )

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
        return self.items.add_event(
            matter_id,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            location=location,
            description=description,
            share=share,
            all_day=all_day,
            first_day=first_day,
            last_day=last_day,
        )

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
        return self.items.add_task(
            matter_id,
            title=title,
            due_on=due_on,
            assignee_id=assignee_id,
            description=description,
            done=done,
            share=share,
        )

    def add_note(self, matter_id: int, *, subject: str, body: str, share: bool = False) -> int:
        return self.items.add_note(matter_id, subject=subject, body=body, share=share)

    def add_message(
        self, matter_id: int, *, body: str, subject: str = "", share: bool = False
    ) -> int:
        return self.items.add_message(matter_id, body=body, subject=subject, share=share)

    def edit_item(
        self,
        kind: ItemKind,
        item_id: int,
        *,
        share: bool | None = None,
        expected_version: int | None = None,
        **changes: Any,
    ) -> str | None:
        return self.items.edit_item(
            kind, item_id, share=share, expected_version=expected_version, **changes
        )

    def delete_item(self, kind: ItemKind, item_id: int) -> None:
        return self.items.delete_item(kind, item_id)

    def add_folder(self, matter_id: int, name: str, *, linked_path: str | None = None) -> int:
        return self.items.add_folder(matter_id, name, linked_path=linked_path)

    def client_portal_folder(self, matter_id: int) -> int:
        return self.items.client_portal_folder(matter_id)

    def folders(self, matter_id: int) -> list[FolderRow]:
        return self.items.folders(matter_id)

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
        return self.items.add_document(
            matter_id,
            folder_id,
            name=name,
            content=content,
            content_type=content_type,
            from_client=from_client,
            share=share,
        )

    def link_document(self, matter_id: int, folder_id: int, *, linked_name: str) -> int:
        return self.items.link_document(matter_id, folder_id, linked_name=linked_name)

    def document_content(self, document_id: int) -> bytes:
        return self.items.document_content(document_id)

    def invoice_pdf(self, invoice_id: int) -> bytes | None:
        return self.items.invoice_pdf(invoice_id)

    def set_invoice_pdf(
        self, number: str, pdf: PdfFile | None, *, limit_bytes: int
    ) -> InvoicePdfChange:
        return self.items.set_invoice_pdf(number, pdf, limit_bytes=limit_bytes)

    def add_form(
        self,
        name: str,
        *,
        fields: Sequence[dict[str, Any]],
        rule: FormRule,
        matter_id: int | None = None,
        description: str | None = None,
    ) -> int:
        return self.items.add_form(
            name, fields=fields, rule=rule, matter_id=matter_id, description=description
        )

    # FormsService --------------------------------------------------------------------------

    def list_intake_forms(
        self,
        text: str = "",
        *,
        matter_id: int | None = None,
        after: Key | None = None,
        before: Key | None = None,
        limit: int = 50,
    ) -> Page[IntakeFormRow]:
        return self.forms.list_intake_forms(
            text, matter_id=matter_id, after=after, before=before, limit=limit
        )

    def intake_form(self, form_id: int) -> IntakeFormRow:
        return self.forms.intake_form(form_id)

    def edit_form(
        self,
        form_id: int,
        *,
        name: str,
        fields: Sequence[dict[str, Any]],
        rule: FormRule,
        matter_id: int | None = None,
        description: str | None = None,
        expected_version: int | None = None,
    ) -> str | None:
        return self.forms.edit_form(
            form_id,
            name=name,
            fields=fields,
            rule=rule,
            matter_id=matter_id,
            description=description,
            expected_version=expected_version,
        )

    # ListsService --------------------------------------------------------------------------

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
        return self.lists.list_items(
            kind,
            matter_id=matter_id,
            text=text,
            after=after,
            before=before,
            limit=limit,
            folder_id=folder_id,
            shared_only=shared_only,
        )

    def item_row(self, kind: ItemKind, item_id: int) -> Any:
        return self.lists.item_row(kind, item_id)

    def list_invoices(self, **kw: Any) -> Page[InvoiceRow]:
        return self.lists.list_invoices(**kw)

    def list_events(self, **kw: Any) -> Page[EventRow]:
        return self.lists.list_events(**kw)

    def list_tasks(self, **kw: Any) -> Page[TaskRow]:
        return self.lists.list_tasks(**kw)

    def list_notes(self, **kw: Any) -> Page[NoteRow]:
        return self.lists.list_notes(**kw)

    def list_documents(self, **kw: Any) -> Page[DocumentRow]:
        return self.lists.list_documents(**kw)

    def list_messages(self, **kw: Any) -> Page[MessageRow]:
        return self.lists.list_messages(**kw)

    def list_forms(self, **kw: Any) -> Page[FormRow]:
        return self.lists.list_forms(**kw)

    def invoice_lines(self, invoice_id: int) -> list[InvoiceLineRow]:
        return self.lists.invoice_lines(invoice_id)

    def count_shared(self, matter_id: int | None = None) -> dict[ShareState, int]:
        return self.lists.count_shared(matter_id)

    # HistoryService ------------------------------------------------------------------------

    def share_history(self, kind: ItemKind, item_id: int) -> ShareHistory:
        return self.history.share_history(kind, item_id)

    # PreviewService ------------------------------------------------------------------------

    def client_preview(self, matter_id: int) -> MatterPreview:
        return self.preview.client_preview(matter_id)

    # SyncService ---------------------------------------------------------------------------

    def record_client_reply(
        self, matter_id: int, *, portal_ref: str, author_name: str, body: str, sent_at: datetime
    ) -> int | None:
        return self.sync.record_client_reply(
            matter_id, portal_ref=portal_ref, author_name=author_name, body=body, sent_at=sent_at
        )

    def record_client_upload(
        self,
        matter_id: int,
        *,
        portal_ref: str,
        name: str,
        content: bytes,
        content_type: str | None,
        uploaded_at: datetime,
    ) -> int | None:
        return self.sync.record_client_upload(
            matter_id,
            portal_ref=portal_ref,
            name=name,
            content=content,
            content_type=content_type,
            uploaded_at=uploaded_at,
        )

    def record_item_seen(
        self,
        kind: ItemKind,
        item_id: int,
        *,
        viewed_at: datetime | None = None,
        downloaded_at: datetime | None = None,
    ) -> None:
        return self.sync.record_item_seen(
            kind, item_id, viewed_at=viewed_at, downloaded_at=downloaded_at
        )

    def form_submissions(self, form_id: int) -> list[SubmissionRow]:
        return self.sync.form_submissions(form_id)

    def record_form_submission(
        self,
        form_id: int,
        *,
        portal_ref: str,
        answers: dict[str, Any],
        submitted_by: str,
        submitted_at: datetime,
    ) -> SubmissionRow:
        return self.sync.record_form_submission(
            form_id,
            portal_ref=portal_ref,
            answers=answers,
            submitted_by=submitted_by,
            submitted_at=submitted_at,
        )

    # FeedSyncService -----------------------------------------------------------------------

    def feed_cursor(self) -> str | None:
        return self.feed.feed_cursor()

    def sync_changes(self, source: FeedSource, *, max_pages: int = 50) -> SyncReport:
        return self.feed.sync_changes(source, max_pages=max_pages)

    def apply_change(self, change: dict[str, Any], source: FeedSource) -> bool:
        return self.feed.apply_change(change, source)

    # DeliveryService -----------------------------------------------------------------------

    def deliver_pending(
        self,
        transport: Transport,
        *,
        limit: int = 500,
        now: datetime | None = None,
        up_to: int | None = None,
        also: Collection[int] = (),
        stopping: Callable[[], bool] = lambda: False,
    ) -> DeliveryReport:
        return self.delivery.deliver_pending(
            transport, limit=limit, now=now, up_to=up_to, also=also, stopping=stopping
        )

    def outbox_high_water(self) -> int:
        return self.delivery.outbox_high_water()

    def last_change(self) -> int:
        return self.delivery.last_change()

    def delivery_problem(self) -> str | None:
        return self.delivery.delivery_problem()

    def note_problem(self, problem: str | None) -> None:
        return self.delivery.note_problem(problem)

    def pending_deliveries(self) -> int:
        return self.delivery.pending_deliveries()

    # ResendService -------------------------------------------------------------------------

    def resend_everything(self) -> int:
        return self.resend.resend_everything()

    def after_restore(self, *, at_least_epoch: int = 0) -> RestoreReport:
        return self.resend.after_restore(at_least_epoch=at_least_epoch)

    # PruningService ------------------------------------------------------------------------

    def prune_outbox(self, keep_days: int, now: datetime | None = None) -> OutboxPruned:
        return self.pruning.prune_outbox(keep_days, now)
