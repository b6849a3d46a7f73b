"""The states that items, contacts and shares move through."""

from __future__ import annotations

from enum import StrEnum


class StaffRole(StrEnum):
    """Staff roles of R1."""

    ADMIN = "admin"
    NORMAL = "normal"
    BILLING = "billing"
    READ_ONLY = "read_only"

    @property
    def label(self) -> str:
        return {"admin": "Admin", "normal": "Normal", "billing": "Billing"}.get(
            self.value, "Read-only"
        )


class ShareState(StrEnum):
    """Where an item stands with the portal; the far-left icon column shows it (S0)."""

    NOT_SHARED = "not_shared"
    PENDING = "pending"
    SHARED = "shared"
    FAILED = "failed"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    FINAL = "final"


class ContactStatus(StrEnum):
    """A portal contact's standing on one matter (C1-C3)."""

    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"
    REMOVED = "removed"


class TwoFactorRequirement(StrEnum):
    """Which clients the firm requires to sign in with a second factor."""

    OFF = "off"
    ALL = "all"  # every client
    SENSITIVE = "sensitive"  # the clients of matters marked sensitive


class ContactAction(StrEnum):
    INVITE = "invite"
    DISABLE = "disable"
    ENABLE = "enable"
    REMOVE = "remove"
    REINVITE = "reinvite"
    EDIT = "edit"  # name or email corrected; the status stays


class PartyAccess(StrEnum):
    """Client Portal Parties (M5)."""

    ALLOWED = "allowed"
    RESTRICTED = "restricted"


class FormRule(StrEnum):
    """An intake form's processing rule (S4)."""

    ASSOCIATE = "associate"  # fill fields of an existing matter and its client
    CREATE = "create"  # create a new client and matter


class FieldType(StrEnum):
    TEXT = "text"
    MULTILINE = "multiline"
    DATE = "date"
    CHOICE = "choice"
    EMAIL = "email"
    PHONE = "phone"


class MatterStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


class DocumentSource(StrEnum):
    """Where a document's bytes live (S3): in the firm database, or in a linked folder."""

    STORED = "stored"
    LINKED = "linked"


class OutboxOp(StrEnum):
    """What an outbox row asks the portal service to do."""

    PUBLISH = "publish"
    REVOKE = "revoke"
    MATTER = "matter"  # a matter's portal switch and permissions
    FIRM = "firm"  # the firm-wide switch, permissions and email settings
    CONTACT = "contact"  # invite, disable, enable, remove, re-invite
    PARTIES = "parties"  # which staff get a matter's portal notifications
    NOTIFY = "notify"  # every item of a batch is delivered: email each client once
    RESET = "reset"  # the firm restored a backup: the portal starts over (then gets it all)
    TWO_FACTOR_RESET = "two_factor_reset"  # staff reset a client's second factor


class EmailPreference(StrEnum):
    """How a client hears of new items, chosen on their account page (F5, per client)."""

    INSTANT = "instant"  # each new item at once (the default)
    DIGEST = "digest"  # one digest a day
    NONE = "none"  # only invitations and security notices


class OutboxState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
