"""What a file holds, once read: one record per row the firm exported, with the line it came
from, and the refusals of the lines that cannot be taken (every one of them, not the first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

T = TypeVar("T")


class FileRefused(Exception):
    """The whole file is refused: its lines that are wrong, each with its number and reason."""

    def __init__(self, name: str, refusals: list[Refusal]) -> None:
        self.name = name
        self.refusals = refusals
        shown = "\n".join(f"  {r.place}: {r.reason}" for r in refusals[:50])
        more = f"\n  and {len(refusals) - 50:,} more" if len(refusals) > 50 else ""
        unit = "file" if refusals and all(r.where is not None for r in refusals) else "line"
        count = f"{len(refusals):,} {unit}(s)" if len(refusals) != 1 else f"1 {unit}"
        super().__init__(f"{name}: nothing was imported; {count} cannot be read:\n{shown}{more}")


@dataclass(frozen=True, slots=True)
class Refusal:
    line: int
    reason: str
    # Where it is when that is not a line of a file: a file of a folder being imported.
    where: str | None = None

    @property
    def place(self) -> str:
        return self.where if self.where is not None else f"line {self.line}"


@dataclass(slots=True)
class Parsed(Generic[T]):
    """Every record read, and every line refused (the caller refuses the file if any)."""

    records: list[T] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    # What was left out on purpose, each with why (a hidden file of a folder): said, not refused.
    skipped: list[str] = field(default_factory=list)

    def refuse(self, line: int, reason: str) -> None:
        self.refusals.append(Refusal(line, reason))

    def checked(self, name: str) -> list[T]:
        """The records, or FileRefused naming every bad line."""
        if self.refusals:
            raise FileRefused(name, sorted(self.refusals, key=lambda r: r.line))
        return self.records


@dataclass(frozen=True, slots=True)
class ClientRecord:
    line: int
    client_id: str
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    date_of_birth: date | None = None


@dataclass(frozen=True, slots=True)
class MatterRecord:
    line: int
    number: str  # the firm's matter number: LEDES's LAW_FIRM_MATTER_ID
    name: str
    client_id: str
    practice_area: str | None = None
    description: str | None = None
    opened_on: date | None = None
    closed: bool | None = None  # None: the file does not say (the status cell is blank)
    responsible: str | None = None  # a staff login or email


@dataclass(frozen=True, slots=True)
class ContactRecord:
    line: int
    client_id: str
    name: str
    email: str
    matter: str | None = None  # a matter number: invited to that matter only


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    quantity: str  # a decimal, as written (the repository keeps quantities exact)
    rate_cents: int


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    line: int
    number: str
    matter: str
    issued_on: date
    total_cents: int
    due_on: date | None = None
    status: str | None = None
    lines: tuple[InvoiceLine, ...] = ()
    memo: str | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    line: int
    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    location: str | None = None
    description: str | None = None
    # An all-day event (DTSTART;VALUE=DATE): its first and last day, the last included.
    all_day: bool = False
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A file to keep in a matter's documents: read whole (stored) or fingerprinted only
    (linked: the bytes stay in the folder on disk)."""

    line: int  # its place in the walk, for ordering refusals
    path: str  # the file as found, absolute
    name: str  # the file's name, shown in the app and the portal
    size: int
    sha256: str
    content_type: str
    linked_name: str | None = None  # its path within the linked folder (POSIX separators)
    content: bytes | None = None  # a stored file's bytes
