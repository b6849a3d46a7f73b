"""Pure rules and types of the client portal. No I/O; imports nothing else of the project."""

from . import rules, texts
from .decision import (
    Conflict,
    Decision,
    EditConflict,
    Invalid,
    NeedsConfirmation,
    NotFound,
    Refused,
    Unavailable,
    allow,
    refuse,
)
from .kinds import ALL_CATEGORIES, CATEGORY_OF, Category, ItemKind
from .rules import FirmPortal, MatterPortal
from .states import (
    ContactAction,
    ContactStatus,
    DocumentSource,
    FieldType,
    FormRule,
    InvoiceStatus,
    MatterStatus,
    OutboxOp,
    OutboxState,
    PartyAccess,
    ShareState,
    StaffRole,
)

__all__ = [
    "ALL_CATEGORIES",
    "CATEGORY_OF",
    "Category",
    "Conflict",
    "ContactAction",
    "ContactStatus",
    "Decision",
    "DocumentSource",
    "EditConflict",
    "FieldType",
    "FirmPortal",
    "FormRule",
    "Invalid",
    "InvoiceStatus",
    "ItemKind",
    "MatterPortal",
    "MatterStatus",
    "NeedsConfirmation",
    "NotFound",
    "OutboxOp",
    "OutboxState",
    "PartyAccess",
    "Refused",
    "ShareState",
    "StaffRole",
    "Unavailable",
    "allow",
    "refuse",
    "rules",
    "texts",
]
