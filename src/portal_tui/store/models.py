"""The firm database: SQLAlchemy 2 typed models for everything the firm holds.

Enumerated values are stored as their domain enum's string value (native_enum=False, so a
new value needs no ALTER TYPE on PostgreSQL). Money is integer cents.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.states import (
    ContactStatus,
    DocumentSource,
    FormRule,
    InvoiceStatus,
    MatterStatus,
    OutboxOp,
    OutboxState,
    PartyAccess,
    ShareState,
    StaffRole,
)
from portal_tui.sqltypes import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(cls: type[Any], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def hand_made_table(name: str) -> bool:
    """Tables a revision made by hand that no model describes: SQLite's trigram search
    indexes (0004) and the shadow tables FTS5 keeps beside them."""
    return name.startswith("search_")


class Edited:
    """A row staff edit: `edit_version` grows with every UPDATE the ORM writes, and the UPDATE
    only applies where the row still has the version it was read at (SQLAlchemy's version
    counter), so two staff saving the same row never both win: the second is refused."""

    edit_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # The column of this class's own table (each class gets its own copy of a mixin's).
        table: Table = cls.__table__  # type: ignore[attr-defined]  # declarative sets it
        return {"version_id_col": table.c.edit_version}


class FirmSettings(Base):
    """One row: the firm and its client portal settings (F2-F5)."""

    __tablename__ = "firm_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200))
    portal_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Category values (domain.Category) the firm permits; all of them by default (F3).
    portal_permissions: Mapped[list[str]] = mapped_column(JSON)
    notify_new_items: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_staff_on_upload: Mapped[bool] = mapped_column(Boolean, default=True)
    # Which clients must sign in with a second factor (domain.states.TwoFactorRequirement).
    two_factor_required: Mapped[str] = mapped_column(
        String(20), default="off", server_default="off"
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who this firm is to a portal service (one portal serves one firm); a restored backup is
    # the same firm. Made when the firm is set up.
    firm_uuid: Mapped[str | None] = mapped_column(String(36))
    # Grows when a backup is restored, so the portal takes the restored firm's state over the
    # newer versions it holds from before (see repository/restore.py).
    epoch: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StaffKey(Base):
    """A staff user's SSH public key: the built-in SSH door (`portal-tui ssh-serve`) lets its
    holder in as that staff user. A key is one staff user's only (its fingerprint is unique)."""

    __tablename__ = "staff_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    # OpenSSH's SHA256 fingerprint ("SHA256:" and 43 characters), as ssh-keygen -l prints it.
    fingerprint: Mapped[str] = mapped_column(String(80), unique=True)
    # "ssh-ed25519 AAAA…": the key itself, without its comment.
    public_key: Mapped[str] = mapped_column(Text)
    comment: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Client(Edited, Base):
    """A person or organisation the firm acts for; its primary email is where the portal writes."""

    __tablename__ = "clients"
    __table_args__ = (Index("uq_clients_ref", "ref", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    primary_email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(Text)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The firm's own id for the client (its practice-management system's): how an import
    # finds the row again. None for a client added on screen.
    ref: Mapped[str | None] = mapped_column(String(80))


class Matter(Edited, Base):
    __tablename__ = "matters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    status: Mapped[MatterStatus] = mapped_column(
        _enum(MatterStatus, "matter_status"), default=MatterStatus.OPEN
    )
    practice_area: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    opened_on: Mapped[date | None] = mapped_column(Date)
    # The staff user who answers for the matter (a firm's "responsible attorney"); None when
    # the firm has not said.
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    portal_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Category values the matter permits, always within the firm's (M2). None until the
    # portal is first turned ON, which starts it from the firm's permitted set.
    portal_permissions: Mapped[list[str] | None] = mapped_column(JSON)
    # Marked sensitive: its clients must sign in with a second factor when the firm requires
    # it of sensitive matters.
    portal_sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(lazy="raise")


class MatterParty(Base):
    """Client Portal Parties (M5): each firm user Allowed or Restricted on a matter."""

    __tablename__ = "matter_parties"
    __table_args__ = (UniqueConstraint("matter_id", "staff_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    access: Mapped[PartyAccess] = mapped_column(_enum(PartyAccess, "party_access"))


class PortalContact(Base):
    """A person who logs in to the portal for one matter (C1-C4)."""

    __tablename__ = "portal_contacts"
    __table_args__ = (UniqueConstraint("matter_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[ContactStatus] = mapped_column(_enum(ContactStatus, "contact_status"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invitations_sent: Mapped[int] = mapped_column(Integer, default=1)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped on every change so the portal service can drop a late, stale update.
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Every ORM UPDATE applies only where the contact still has the version it was read at
    # (callers hold its row lock and set the next version themselves).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Invoice(Edited, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("number"),
        Index("ix_invoices_issued", "issued_on", "id"),
        Index("ix_invoices_matter_issued", "matter_id", "issued_on", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[InvoiceStatus] = mapped_column(
        _enum(InvoiceStatus, "invoice_status"), default=InvoiceStatus.DRAFT
    )
    total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    memo: Mapped[str | None] = mapped_column(Text)
    # The firm's own PDF of the invoice, when it attached one: what the client downloads
    # instead of the PDF the portal would make from the lines.
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    lines: Mapped[list[InvoiceLine]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    quantity_milli: Mapped[int] = mapped_column(Integer, default=1000)  # 1.000 = 1000
    rate_cents: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class CalendarEvent(Edited, Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_starts", "starts_at", "id"),
        Index("ix_events_matter_starts", "matter_id", "starts_at", "id"),
        Index("uq_events_matter_uid", "matter_id", "uid", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    # The UID of the calendar file it came from (RFC 5545): a second import matches it.
    uid: Mapped[str | None] = mapped_column(String(255))
    # An all-day event keeps its days, first to last (both included): a date is no instant,
    # and no zone may move it to the day before. Its starts_at/ends_at are then midnight to
    # midnight of those days in the firm's zone, so it sorts and filters among timed events.
    all_day: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)


class Task(Edited, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_due", "due_on", "id"),
        Index("ix_tasks_matter_due", "matter_id", "due_on", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    description: Mapped[str | None] = mapped_column(Text)


class Note(Edited, Base):
    __tablename__ = "notes"
    __table_args__ = (
        Index("ix_notes_created", "created_at", "id"),
        Index("ix_notes_matter_created", "matter_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Folder(Base):
    """A matter's document folder; `linked_path` makes it a document integration (S3)."""

    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("matter_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    linked_path: Mapped[str | None] = mapped_column(Text)


class Document(Edited, Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_matter_name", "matter_id", "name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    folder_id: Mapped[int] = mapped_column(ForeignKey("folders.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    source: Mapped[DocumentSource] = mapped_column(_enum(DocumentSource, "document_source"))
    content_type: Mapped[str] = mapped_column(String(120), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # Stored files keep their bytes here; linked ones are read from linked_name in the folder.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    linked_name: Mapped[str | None] = mapped_column(Text)
    from_client: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The portal's id of a client upload, so syncing the same upload twice adds it once.
    portal_ref: Mapped[str | None] = mapped_column(String(80), unique=True)


class Message(Edited, Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_matter_sent", "matter_id", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    from_client: Mapped[bool] = mapped_column(Boolean, default=False)
    author_name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The portal's id of a client reply, so syncing the same reply twice adds it once.
    portal_ref: Mapped[str | None] = mapped_column(String(80), unique=True)


class IntakeForm(Edited, Base):
    __tablename__ = "intake_forms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # [{"key", "label", "type" (FieldType), "required", "choices", "target"}, ...]; target is
    # "client.<field>" or "matter.<field>" or null.
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rule: Mapped[FormRule] = mapped_column(_enum(FormRule, "form_rule"))
    matter_id: Mapped[int | None] = mapped_column(
        ForeignKey("matters.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormSubmission(Base):
    __tablename__ = "form_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("intake_forms.id"), index=True)
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matters.id"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_by: Mapped[str] = mapped_column(String(320))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    portal_ref: Mapped[str] = mapped_column(String(80), unique=True)


class ShareMark(Base):
    """Where one item stands with the portal (S0): the icon in every list it appears in."""

    __tablename__ = "share_marks"
    __table_args__ = (
        UniqueConstraint("kind", "item_id"),
        Index("ix_share_marks_matter_state", "matter_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind, "item_kind"))
    item_id: Mapped[int] = mapped_column(Integer)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    # What staff asked for: shared (True) or unshared (False). `state` is how far it got.
    wanted: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[ShareState] = mapped_column(_enum(ShareState, "share_state"))
    # Grows with every share and unshare, so a late retry of an old request never wins.
    version: Mapped[int] = mapped_column(Integer, default=1)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unshared_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    unshared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    first_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Every ORM UPDATE of a mark applies only where the mark still has the version it was read
    # at: sharing sets the next version itself (under the item's row lock), and a write that
    # lost a race fails instead of doubling a version.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class AuditEntry(Base):
    """Append-only (triggers refuse UPDATE and DELETE): who did what to which item, when."""

    __tablename__ = "audit_trail"
    __table_args__ = (
        Index("ix_audit_item", "kind", "item_id", "id"),
        Index("ix_audit_matter", "matter_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    actor: Mapped[str] = mapped_column(String(200))  # a staff login, "portal" or "system"
    action: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str | None] = mapped_column(String(24))  # an ItemKind, or "matter", "firm", …
    item_id: Mapped[int | None] = mapped_column(Integer)
    matter_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxEntry(Base):
    """A change the portal service must hear about, written in the same transaction as it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at", "id"),
        # "Is anything of this batch still pending?" is asked after every delivered publish.
        Index("ix_outbox_batch", "batch", "state"),
        Index("ix_outbox_claimed_by", "claimed_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    op: Mapped[OutboxOp] = mapped_column(_enum(OutboxOp, "outbox_op"))
    kind: Mapped[str | None] = mapped_column(String(24))
    item_id: Mapped[int | None] = mapped_column(Integer)
    matter_id: Mapped[int | None] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Minted once with the row: every retry of it sends the same key.
    idempotency_key: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: uuid.uuid4().hex
    )
    # Rows written together (one bulk share) form a batch: one email per client per batch.
    batch: Mapped[str] = mapped_column(String(64), default=lambda: uuid.uuid4().hex)
    state: Mapped[OutboxState] = mapped_column(
        _enum(OutboxState, "outbox_state"), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # While claimed, next_attempt_at is the end of the claim's lease; claimed_by names the
    # claim, so only the relay that holds the lease settles, renews or releases the row.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    # A share or unshare that offers Undo is held until then: no relay claims the row before
    # (so it can still be taken back, sending nothing), and a claim clears it, so an Undo that
    # finds it empty knows the row may have gone out. `held_mark` is the item's share mark as
    # it was before, which an Undo puts back ({} when the item had no mark).
    deliver_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_mark: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class SyncState(Base):
    """Small named values the delivery worker keeps, such as the changes-feed cursor."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
