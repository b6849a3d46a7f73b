"""The portal service's own database: only what the firm has shared, and what clients did.

Ids of firm objects (matters, contacts, items) are the firm database's ids, so the firm and the
portal talk about the same things without a mapping table. Every row the firm sends carries a
version; a write with a version not newer than the stored one is ignored, so a late retry of an
old request never undoes a newer one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_tui.sqltypes import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PortalFirm(Base):
    """One row: the firm's name, its switch, permissions and email settings (F2-F5)."""

    __tablename__ = "portal_firm"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    permissions: Mapped[list[str]] = mapped_column(JSON)
    notify_new_items: Mapped[bool] = mapped_column(Boolean, default=True)
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_staff_on_upload: Mapped[bool] = mapped_column(Boolean, default=True)
    # Who must sign in with a second factor: "off", "all" clients, or clients of "sensitive"
    # matters (domain.rules.two_factor_required).
    two_factor_required: Mapped[str] = mapped_column(
        String(20), default="off", server_default="off"
    )
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class PortalBinding(Base):
    """One row once bound: the one firm this portal serves (its id from the firm database),
    and the firm's epoch, which grows each time the firm restores a backup."""

    __tablename__ = "portal_binding"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    firm_uuid: Mapped[str] = mapped_column(String(36))
    epoch: Mapped[int] = mapped_column(BigInteger)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How far the bound firm has read the changes feed (the cursor of its last read).
    feed_consumed_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class StaffToken(Base):
    """A bearer token of the staff API. Only its SHA-256 is kept: the token is shown once."""

    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_login: Mapped[str] = mapped_column(String(120), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PortalMatter(Base):
    __tablename__ = "portal_matters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    number: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(String(300), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Staff who get this matter's portal notices (M5: allowed parties only).
    notify: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Marked sensitive by the firm: its clients may be required a second factor.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    notify_version: Mapped[int] = mapped_column(BigInteger, default=0)


class Account(Base):
    """A client person who logs in: one per firm client, whatever the number of matters (C4)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # client id
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the client hears of new items (an EmailPreference value, chosen on /account);
    # invitations and security notices go whatever it says.
    email_preference: Mapped[str] = mapped_column(
        String(12), default="instant", server_default="instant"
    )


class PortalContact(Base):
    """An account's access to one matter (C1-C3): invited, active, disabled or removed."""

    __tablename__ = "portal_access"
    __table_args__ = (UniqueConstraint("matter_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    matter_id: Mapped[int] = mapped_column(ForeignKey("portal_matters.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(24))  # a domain ContactStatus value
    # SHA-256 of the invitation link's secret; a re-invite replaces it (the old link dies).
    invite_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invitations_sent: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class PortalItem(Base):
    """The portal's copy of one shared item. Revoked: `data` is dropped, the row stays as a
    tombstone holding the version, so a late publish of an older version cannot revive it."""

    __tablename__ = "portal_items"
    __table_args__ = (Index("ix_portal_items_matter_kind", "matter_id", "kind", "published"),)

    kind: Mapped[str] = mapped_column(String(24), primary_key=True)  # a domain ItemKind value
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    matter_id: Mapped[int] = mapped_column(ForeignKey("portal_matters.id"))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Items published together (one bulk share) are one batch: one email per client for it.
    batch: Mapped[str | None] = mapped_column(String(64), index=True)


class DocumentBlob(Base):
    """A shared document's bytes; dropped with the document's copy when it is unshared."""

    __tablename__ = "document_blobs"

    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class InvoicePdf(Base):
    """The firm's own PDF of a shared invoice, which the client downloads instead of the one
    made from its lines. Held only while the copy names these bytes (its `pdf_sha256`):
    dropped when the invoice is unshared, its PDF removed or replaced."""

    __tablename__ = "invoice_pdfs"

    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class ClientUpload(Base):
    """A file a client uploaded into the matter's "Client Portal Documents" folder."""

    __tablename__ = "client_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("portal_matters.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("portal_access.id"))
    name: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClientMessage(Base):
    """A client's reply in a matter's message thread (S5)."""

    __tablename__ = "client_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("portal_matters.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("portal_access.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormSubmission(Base):
    """An intake form filled out and submitted — once per contact and form (S4)."""

    __tablename__ = "portal_form_submissions"
    __table_args__ = (UniqueConstraint("form_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[int] = mapped_column(Integer, index=True)  # the firm's form item id
    matter_id: Mapped[int] = mapped_column(ForeignKey("portal_matters.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("portal_access.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemView(Base):
    """When a contact first viewed and first downloaded an item."""

    __tablename__ = "item_views"
    __table_args__ = (UniqueConstraint("kind", "item_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    item_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(ForeignKey("portal_access.id"))
    first_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Change(Base):
    """The changes feed the firm pulls by cursor: uploads, submissions, replies, first views
    and downloads, activations and logins. `seq` only grows."""

    __tablename__ = "changes"
    # Never hand out a number twice, even after the newest row were deleted (cursors rely on it).
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(40))
    matter_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class IdempotencyRecord(Base):
    """One Idempotency-Key of the staff API: the request it came with and the first answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("staff_tokens.id"))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    body_hash: Mapped[str] = mapped_column(String(64))
    # None while the first request is still being handled (a second one then gets 409).
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClientSession(Base):
    """A client's server-side session: the cookie holds only the random id (hashed here)."""

    __tablename__ = "client_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    matter_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the account page lists: the browser and system it signed in from, shortened from
    # its User-Agent, and its address only where the firm keeps it (session_places).
    device: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(64))


class OneTimeLink(Base):
    """An emailed link that signs a client in once: a password reset. Only the secret's hash
    is kept; the link works until `expires_at`, once (`used_at`)."""

    __tablename__ = "one_time_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "reset"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TwoFactor(Base):
    """An account's TOTP secret (RFC 6238), written once a code from the app confirmed it
    (the setup page carries the secret in its form till then). `enabled_at` None: a row an
    older setup stored on showing its page, not asked for; the next confirmed setup takes it
    over. `last_step` is the time step of the last code accepted: a code is never taken twice,
    nor an older one after it."""

    __tablename__ = "two_factor"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id"), primary_key=True, autoincrement=False
    )
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)


class RecoveryCode(Base):
    """One of an account's single-use recovery codes; only its keyed hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """Failed logins, counted per account and per address to limit guessing (429)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400))  # "account:<email>" or "addr:<ip>"
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailMessage(Base):
    """An email waiting to go, gone, or dropped. The Message-ID is derived from what the email
    is about, so the same notice queued twice is one row and is never sent twice."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # invitation, new_items, upload, digest
    # The notice's key (a batch id, an ISO day, ...): with kind and recipient it makes the
    # Message-ID, and the sender re-composes the email from it just before sending. None on
    # rows queued before it was kept: those go out as stored.
    about: Mapped[str | None] = mapped_column(String(200))
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # the plain text part
    # The HTML alternative, rendered with the text at queue time; None: plain text only.
    html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Given up unsent, for good: at send time nothing was left for the recipient to be told
    # (an item unshared, access taken away, ...); last_error says why.
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class ServiceSecret(Base):
    """Named secrets the service makes for itself on first start (cursor signing key)."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
