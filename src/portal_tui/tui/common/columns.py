"""What each list shows, column by column. Client data goes through `text()`, never markup."""

from __future__ import annotations

from datetime import date, datetime

from rich.text import Text

from portal_tui.domain import texts
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import (
    ClientRow,
    DocumentRow,
    EventRow,
    FormRow,
    InvoiceRow,
    MatterRow,
    MessageRow,
    NoteRow,
    TaskRow,
)
from portal_tui.domain.states import DocumentSource, FormRule, InvoiceStatus

from .glyphs import Glyphs
from .item_table import Column, text


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")  # shown in local time
    return value.isoformat()


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def matter_columns(glyphs: Glyphs) -> list[Column[MatterRow]]:
    def client(row: MatterRow) -> Text:
        # M3: the portal icon stands left of the client's name when the matter's portal is ON.
        icon = glyphs.portal + " " if row.portal_enabled else "  "
        return Text.assemble(
            (icon, "bold cyan"), text(row.client_name), no_wrap=True, overflow="ellipsis"
        )

    return [
        Column("Number", lambda r: r.number, 11),
        Column("Client", client, 30),
        Column("Matter", lambda r: r.name, 40),
        Column("Status", lambda r: r.status.value.capitalize(), 8),
        # Last: at 80 columns the list scrolls to it, the columns before it keep their width.
        Column("Responsible", lambda r: r.responsible_name or "", 18),
    ]


CLIENT_COLUMNS: list[Column[ClientRow]] = [
    Column("Client", lambda r: r.name, 30),
    Column("Email", lambda r: r.primary_email or "", 28),
    Column("Phone", lambda r: r.phone or "", 16),
    Column("Address", lambda r: (r.address or "").replace("\n", ", "), 30),
]


INVOICE_COLUMNS: list[Column[InvoiceRow]] = [
    Column("Invoice", lambda r: r.number, 12),
    Column("Matter", lambda r: r.matter_number, 11),
    Column("Client", lambda r: r.client_name, 24),
    Column("Issued", lambda r: day(r.issued_on), 10),
    Column("Status", lambda r: "Final" if r.status is InvoiceStatus.FINAL else "Draft", 6),
    Column("Total", lambda r: Text(money(r.total_cents), justify="right"), 10),
    Column("Balance", lambda r: Text(money(r.balance_cents), justify="right"), 10),
]


def starts(row: EventRow) -> str:
    """A timed event's start in local time; an all-day event's day, which no zone moves."""
    if row.first_day is not None:
        return f"{row.first_day.isoformat()} {texts.ALL_DAY}"
    return day(row.starts_at)


EVENT_COLUMNS: list[Column[EventRow]] = [
    Column("Starts", starts, 18),
    Column("Title", lambda r: r.title, 34),
    Column("Location", lambda r: r.location or "", 20),
    Column("Matter", lambda r: r.matter_number, 11),
]

TASK_COLUMNS: list[Column[TaskRow]] = [
    Column("Due", lambda r: day(r.due_on), 10),
    Column("Task", lambda r: r.title, 38),
    Column("Done", lambda r: "Yes" if r.done else "", 4),
    Column("Matter", lambda r: r.matter_number, 11),
]

NOTE_COLUMNS: list[Column[NoteRow]] = [
    Column("Created", lambda r: day(r.created_at), 16),
    Column("Subject", lambda r: r.subject, 36),
    Column("Note", lambda r: r.body.replace("\n", " "), 30),
    Column("Matter", lambda r: r.matter_number, 11),
]

DOCUMENT_COLUMNS: list[Column[DocumentRow]] = [
    Column("Name", lambda r: r.name, 34),
    Column("Folder", lambda r: r.folder_name, 24),
    Column("Source", lambda r: "Linked" if r.source is DocumentSource.LINKED else "Stored", 6),
    Column("Size", lambda r: Text(size(r.size), justify="right"), 9),
    Column("Added", lambda r: day(r.created_at), 16),
]

MESSAGE_COLUMNS: list[Column[MessageRow]] = [
    Column("Sent", lambda r: day(r.sent_at), 16),
    Column("From", lambda r: r.author_name + (" (client)" if r.from_client else ""), 22),
    Column("Message", lambda r: (r.subject + ": " if r.subject else "") + r.body, 44),
    Column("Matter", lambda r: r.matter_number, 11),
]

FORM_COLUMNS: list[Column[FormRow]] = [
    Column("Form", lambda r: r.name, 34),
    Column(
        "Processing rule",
        lambda r: "Existing matter" if r.rule is FormRule.ASSOCIATE else "New matter",
        16,
    ),
    Column("Fields", lambda r: str(len(r.fields)), 6),
]

COLUMNS_OF: dict[ItemKind, list[Column]] = {  # type: ignore[type-arg]
    ItemKind.INVOICE: INVOICE_COLUMNS,
    ItemKind.EVENT: EVENT_COLUMNS,
    ItemKind.TASK: TASK_COLUMNS,
    ItemKind.NOTE: NOTE_COLUMNS,
    ItemKind.DOCUMENT: DOCUMENT_COLUMNS,
    ItemKind.MESSAGE: MESSAGE_COLUMNS,
    ItemKind.FORM: FORM_COLUMNS,
}


# Within one matter (Matter Details) these only repeat the matter: left out, so that the
# columns that differ fit an 80-column terminal.
MATTER_ONLY = frozenset({"Matter", "Client"})


def columns_for(kind: ItemKind, *, in_matter: bool) -> list[Column]:  # type: ignore[type-arg]
    columns = COLUMNS_OF[kind]
    return [c for c in columns if c.label not in MATTER_ONLY] if in_matter else list(columns)
