"""CSV exports of clients, matters, contacts and invoices. The column names that common
practice-management and billing systems write are recognised (case, spaces and punctuation
aside); `--map old=new` names any others. Unknown columns are ignored; a missing required one
refuses the file at its header line."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from . import values
from .records import ClientRecord, ContactRecord, InvoiceRecord, MatterRecord, Parsed

T = TypeVar("T")

# field -> the names exports give it (normalised: lower case, letters and digits only).
CLIENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "client_id": ("clientid", "clientnumber", "clientno", "clientcode", "contactid", "id"),
    "name": ("name", "clientname", "displayname", "fullname", "company", "companyname"),
    "email": ("email", "emailaddress", "primaryemail", "primaryemailaddress", "email1"),
    "phone": ("phone", "phonenumber", "primaryphone", "telephone", "mobile", "phone1"),
    "address": ("address", "primaryaddress", "mailingaddress", "street", "address1"),
    "date_of_birth": ("dateofbirth", "dob", "birthdate", "birthday"),
}
MATTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": (
        "lawfirmmatterid",
        "matterid",
        "matternumber",
        "matterno",
        "displaynumber",
        "number",
        "fileno",
        "filenumber",
    ),
    "name": ("name", "mattername", "title", "mattertitle", "matterdescription"),
    "client_id": ("clientid", "clientnumber", "clientno", "clientcode"),
    "practice_area": ("practicearea", "areaoflaw", "mattertype", "type"),
    "description": ("description", "notes", "details"),
    "opened_on": ("openedon", "opened", "opendate", "dateopened"),
    "status": ("status", "matterstatus"),
    "responsible": (
        "responsible",
        "responsibleattorney",
        "responsiblestaff",
        "responsiblelawyer",
        "owner",
    ),
}
CONTACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "client_id": ("clientid", "clientnumber", "clientno", "clientcode"),
    "name": ("name", "contactname", "fullname", "displayname"),
    "email": ("email", "emailaddress", "contactemail", "email1"),
    "matter": ("matter", "matterid", "matternumber", "lawfirmmatterid", "displaynumber"),
}
INVOICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("invoicenumber", "invoiceno", "invoiceid", "number", "billnumber"),
    "matter": ("matter", "matterid", "matternumber", "lawfirmmatterid", "displaynumber"),
    "issued_on": ("invoicedate", "date", "issuedon", "issuedate", "billdate"),
    "due_on": ("duedate", "dueon", "due"),
    "total": ("total", "invoicetotal", "amount", "totalamount", "billtotal"),
    "status": ("status", "invoicestatus", "state"),
    "memo": ("memo", "description", "invoicedescription", "notes"),
}
REQUIRED = {
    "clients": ("client_id", "name"),
    "matters": ("number", "name", "client_id"),
    "contacts": ("client_id", "name", "email"),
    "invoices": ("number", "matter", "issued_on", "total"),
}


def normalised(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def parse_renames(pairs: Iterable[str]) -> dict[str, str]:
    """`--map old=new` pairs: the file's column `old` is read as the field `new`."""
    renames: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValueError(f"--map {pair!r}: write it as COLUMN=FIELD, e.g. 'File #=number'")
        renames[normalised(old)] = new.strip()
    return renames


def _header(
    header: list[str], columns: Mapping[str, tuple[str, ...]], renames: Mapping[str, str]
) -> tuple[dict[str, int], list[str]]:
    """field -> column index; and what is wrong with the header (unknown --map targets)."""
    problems = [
        f"--map names {new!r}, which is not a field here (fields: {', '.join(columns)})"
        for new in renames.values()
        if new not in columns
    ]
    where: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = normalised(raw)
        target = renames.get(key)
        if target is None:
            target = next((f for f, names in columns.items() if key in names), None)
        if target is not None and target not in where:
            where[target] = index
    return where, problems


def _read(
    text: str,
    kind: str,
    columns: Mapping[str, tuple[str, ...]],
    renames: Mapping[str, str],
    make: Callable[[int, dict[str, str]], T],
) -> Parsed[T]:
    parsed: Parsed[T] = Parsed()
    # Excel writes a byte-order mark; splitlines keeps CSV's quoted newlines with the csv module.
    rows = csv.reader(text.removeprefix("\ufeff").splitlines(keepends=True))
    try:
        header = next(rows)
    except StopIteration:
        parsed.refuse(1, "the file is empty")
        return parsed
    except csv.Error as exc:
        parsed.refuse(1, f"not CSV: {exc}")
        return parsed
    where, problems = _header(header, columns, renames)
    missing = [f for f in REQUIRED[kind] if f not in where]
    for problem in problems:
        parsed.refuse(1, problem)
    if missing:
        names = "; ".join(f"{f} (e.g. {columns[f][0]!r})" for f in missing)
        parsed.refuse(1, f"no column for {names}: name yours with --map COLUMN=FIELD")
    if parsed.refusals:
        return parsed
    try:
        for row in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            fields = {f: row[i].strip() if i < len(row) else "" for f, i in where.items()}
            absent = [f for f in REQUIRED[kind] if not fields.get(f)]
            if absent:
                parsed.refuse(line, f"{', '.join(absent)} is blank")
                continue
            try:
                parsed.records.append(make(line, fields))
            except ValueError as exc:
                parsed.refuse(line, str(exc))
    except csv.Error as exc:
        parsed.refuse(rows.line_num, f"not CSV: {exc}")
    return parsed


def _client(line: int, f: dict[str, str]) -> ClientRecord:
    return ClientRecord(
        line,
        client_id=f["client_id"],
        name=f["name"],
        email=values.optional_email(f.get("email")),
        phone=f.get("phone") or None,
        address=f.get("address") or None,
        date_of_birth=values.optional_day(f.get("date_of_birth")),
    )


_OPEN = {"open", "opened", "active", "pending", ""}
_CLOSED = {"closed", "close", "inactive", "archived", "done"}


def _matter(line: int, f: dict[str, str]) -> MatterRecord:
    status = f.get("status", "").casefold()
    if status not in _OPEN | _CLOSED:
        raise ValueError(f"status {f['status']!r} is neither open nor closed")
    return MatterRecord(
        line,
        number=f["number"],
        name=f["name"],
        client_id=f["client_id"],
        practice_area=f.get("practice_area") or None,
        description=f.get("description") or None,
        opened_on=values.optional_day(f.get("opened_on")),
        closed=None if status == "" else status in _CLOSED,
        responsible=f.get("responsible") or None,
    )


def _contact(line: int, f: dict[str, str]) -> ContactRecord:
    return ContactRecord(
        line,
        client_id=f["client_id"],
        name=f["name"],
        email=values.email(f["email"]),
        matter=f.get("matter") or None,
    )


def _invoice(line: int, f: dict[str, str]) -> InvoiceRecord:
    return InvoiceRecord(
        line,
        number=f["number"],
        matter=f["matter"],
        issued_on=values.day(f["issued_on"]),
        total_cents=values.cents(f["total"]),
        due_on=values.optional_day(f.get("due_on")),
        status=f.get("status") or None,
        memo=f.get("memo") or None,
    )


def read_clients(text: str, renames: Mapping[str, str] | None = None) -> Parsed[ClientRecord]:
    return _read(text, "clients", CLIENT_COLUMNS, renames or {}, _client)


def read_matters(text: str, renames: Mapping[str, str] | None = None) -> Parsed[MatterRecord]:
    return _read(text, "matters", MATTER_COLUMNS, renames or {}, _matter)


def read_contacts(text: str, renames: Mapping[str, str] | None = None) -> Parsed[ContactRecord]:
    return _read(text, "contacts", CONTACT_COLUMNS, renames or {}, _contact)


def read_invoices(text: str, renames: Mapping[str, str] | None = None) -> Parsed[InvoiceRecord]:
    return _read(text, "invoices", INVOICE_COLUMNS, renames or {}, _invoice)
