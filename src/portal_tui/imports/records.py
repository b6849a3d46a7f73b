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
        shown = "\n".join(f"  line {r.line}: {r.reason}" for r in refusals[:50])
        more = f"\n  and {len(refusals) - 50:,} more" if len(refusals) > 50 else ""
        count = f"{len(refusals):,} line(s)" if len(refusals) != 1 else "1 line"
        super().__init__(f"{name}: nothing was imported; {count} cannot be read:\n{shown}{more}")


@dataclass(frozen=True, slots=True)
class Refusal:
    line: int
    reason: str


@dataclass(slots=True)
class Parsed(Generic[T]):
    """Every record read, and every line refused (the caller refuses the file if any)."""

    records: list[T] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

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
