"""What can be shared, and the permission category each kind falls under."""

from __future__ import annotations

from enum import StrEnum


class ItemKind(StrEnum):
    """Every kind of item that can be shared through the client portal (S0)."""

    INVOICE = "invoice"
    EVENT = "event"
    TASK = "task"
    NOTE = "note"
    DOCUMENT = "document"
    MESSAGE = "message"
    FORM = "form"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self][0]

    @property
    def plural(self) -> str:
        return _KIND_LABELS[self][1]

    @property
    def category(self) -> Category:
        return CATEGORY_OF[self]


_KIND_LABELS: dict[ItemKind, tuple[str, str]] = {
    ItemKind.INVOICE: ("invoice", "invoices"),
    ItemKind.EVENT: ("calendar event", "calendar events"),
    ItemKind.TASK: ("task", "tasks"),
    ItemKind.NOTE: ("note", "notes"),
    ItemKind.DOCUMENT: ("document", "documents"),
    ItemKind.MESSAGE: ("message", "messages"),
    ItemKind.FORM: ("intake form", "intake forms"),
}


class Category(StrEnum):
    """The permission boxes of F3, in the order the settings screen shows them."""

    INVOICES = "invoices"
    CALENDAR_EVENTS = "calendar_events"
    TASKS = "tasks"
    NOTES = "notes"
    DOCUMENTS = "documents"
    MESSAGES = "messages"
    FORMS = "forms"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS: dict[Category, str] = {
    Category.INVOICES: "Invoices",
    Category.CALENDAR_EVENTS: "Calendar Events",
    Category.TASKS: "Tasks",
    Category.NOTES: "Notes",
    Category.DOCUMENTS: "Documents",
    Category.MESSAGES: "Messages",
    Category.FORMS: "Forms",
}

CATEGORY_OF: dict[ItemKind, Category] = {
    ItemKind.INVOICE: Category.INVOICES,
    ItemKind.EVENT: Category.CALENDAR_EVENTS,
    ItemKind.TASK: Category.TASKS,
    ItemKind.NOTE: Category.NOTES,
    ItemKind.DOCUMENT: Category.DOCUMENTS,
    ItemKind.MESSAGE: Category.MESSAGES,
    ItemKind.FORM: Category.FORMS,
}

ALL_CATEGORIES: frozenset[Category] = frozenset(Category)


def categories_from_names(names: object) -> frozenset[Category]:
    """Parse stored category names, ignoring any this version does not know."""
    if not isinstance(names, list | tuple | set | frozenset):
        return frozenset()
    known = {c.value for c in Category}
    return frozenset(Category(n) for n in names if isinstance(n, str) and n in known)


def categories_to_names(categories: frozenset[Category] | set[Category]) -> list[str]:
    """Stored form of a category set: stable order, so equal sets store equally."""
    return [c.value for c in Category if c in categories]
