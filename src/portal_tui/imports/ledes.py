"""LEDES 1998B, the legal e-billing standard: ASCII, pipe-delimited, `LEDES1998B[]` on the
first line, the 24 field names on the second, then one line item per record, each ending `[]`.
Line items of one INVOICE_NUMBER make one invoice; its INVOICE_TOTAL must be the sum of its
LINE_ITEM_TOTALs, and each LINE_ITEM_TOTAL its units times unit cost plus adjustment."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from . import values
from .records import InvoiceLine, InvoiceRecord, Parsed

FIRST_LINE = "LEDES1998B[]"
FIELDS = (
    "INVOICE_DATE",
    "INVOICE_NUMBER",
    "CLIENT_ID",
    "LAW_FIRM_MATTER_ID",
    "INVOICE_TOTAL",
    "BILLING_START_DATE",
    "BILLING_END_DATE",
    "INVOICE_DESCRIPTION",
    "LINE_ITEM_NUMBER",
    "EXP/FEE/INV_ADJ_TYPE",
    "LINE_ITEM_NUMBER_OF_UNITS",
    "LINE_ITEM_ADJUSTMENT_AMOUNT",
    "LINE_ITEM_TOTAL",
    "LINE_ITEM_DATE",
    "LINE_ITEM_TASK_CODE",
    "LINE_ITEM_EXPENSE_CODE",
    "LINE_ITEM_ACTIVITY_CODE",
    "TIMEKEEPER_ID",
    "LINE_ITEM_DESCRIPTION",
    "LAW_FIRM_ID",
    "LINE_ITEM_UNIT_COST",
    "TIMEKEEPER_NAME",
    "TIMEKEEPER_CLASSIFICATION",
    "CLIENT_MATTER_ID",
)
# Line item types: F fee, E expense, IF / IE an adjustment of the whole invoice's fees/expenses.
_TYPES = {"F", "E", "IF", "IE"}
_SAME_ON_EVERY_LINE = ("INVOICE_DATE", "CLIENT_ID", "LAW_FIRM_MATTER_ID", "INVOICE_TOTAL")


@dataclass(slots=True)
class _Invoice:
    line: int
    head: dict[str, str]
    lines: list[InvoiceLine] = field(default_factory=list)
    sum_cents: int = 0


def is_ledes(text: str) -> bool:
    return text.removeprefix("\ufeff").lstrip().startswith("LEDES1998B")


def _records(text: str) -> list[tuple[int, str]]:
    """Each record with the line it starts on. Records end with `[]`; a description may, against
    the standard, hold a line break, so records are split on `[]`, not on lines."""
    out: list[tuple[int, str]] = []
    line = 1
    for chunk in text.split("[]"):
        stripped = chunk.lstrip("\r\n")
        start = line + chunk[: len(chunk) - len(stripped)].count("\n")
        line += chunk.count("\n")
        if stripped.strip():
            out.append((start, stripped.rstrip("\r\n")))
    return out


def read_ledes(text: str) -> Parsed[InvoiceRecord]:
    parsed: Parsed[InvoiceRecord] = Parsed()
    text = text.removeprefix("\ufeff")
    if not text.isascii():
        bad = next(i for i, ch in enumerate(text) if not ch.isascii())
        parsed.refuse(text.count("\n", 0, bad) + 1, "LEDES 1998B is ASCII; this line is not")
        return parsed
    records = _records(text)
    if not records or records[0][1].strip() != "LEDES1998B":
        parsed.refuse(1, f"the first line of a LEDES 1998B file is {FIRST_LINE}")
        return parsed
    if len(records) < 2 or [f.strip() for f in records[1][1].split("|")] != list(FIELDS):
        parsed.refuse(2, "the second line must name the 24 LEDES 1998B fields, in order")
        return parsed
    invoices: dict[str, _Invoice] = {}
    for line, record in records[2:]:
        cells = [c.strip() for c in record.split("|")]
        if len(cells) != len(FIELDS):
            parsed.refuse(line, f"{len(cells)} fields; a LEDES 1998B line item has 24")
            continue
        row = dict(zip(FIELDS, cells, strict=True))
        try:
            _line_item(invoices, line, row)
        except ValueError as exc:
            parsed.refuse(line, str(exc))
    for number, inv in invoices.items():
        total = values.cents(inv.head["INVOICE_TOTAL"])
        if total != inv.sum_cents:
            parsed.refuse(
                inv.line,
                f"invoice {number}: INVOICE_TOTAL {total / 100:.2f} is not the sum of its "
                f"line items ({inv.sum_cents / 100:.2f})",
            )
            continue
        head = inv.head
        parsed.records.append(
            InvoiceRecord(
                inv.line,
                number=number,
                matter=head["LAW_FIRM_MATTER_ID"],
                issued_on=values.day(head["INVOICE_DATE"]),
                total_cents=total,
                lines=tuple(inv.lines),
                memo=head["INVOICE_DESCRIPTION"] or None,
            )
        )
    return parsed


def _line_item(invoices: dict[str, _Invoice], line: int, row: dict[str, str]) -> None:
    number = row["INVOICE_NUMBER"]
    for name in ("INVOICE_DATE", "INVOICE_NUMBER", "LAW_FIRM_MATTER_ID", "INVOICE_TOTAL"):
        if not row[name]:
            raise ValueError(f"{name} is blank")
    values.day(row["INVOICE_DATE"])
    values.cents(row["INVOICE_TOTAL"])
    kind = row["EXP/FEE/INV_ADJ_TYPE"].upper()
    if kind not in _TYPES:
        raise ValueError(f"EXP/FEE/INV_ADJ_TYPE {kind!r} is not F, E, IF or IE")
    total = values.cents(row["LINE_ITEM_TOTAL"] or "0")
    adjustment = values.cents(row["LINE_ITEM_ADJUSTMENT_AMOUNT"] or "0")
    description = row["LINE_ITEM_DESCRIPTION"] or row["INVOICE_DESCRIPTION"] or kind
    if kind in ("IF", "IE"):
        items = [InvoiceLine(description, "1", total)]
    else:
        units = values.quantity(row["LINE_ITEM_NUMBER_OF_UNITS"])
        cost = values.cents(row["LINE_ITEM_UNIT_COST"] or "0")
        # Billing systems round each line to the cent: 1.5 h at 333.33 is 499.995 -> 500.00.
        exact = Decimal(units) * cost + adjustment
        expected = int(exact.quantize(Decimal(1), ROUND_HALF_UP))
        if expected != total:
            raise ValueError(
                f"LINE_ITEM_TOTAL {total / 100:.2f} is not units x unit cost + adjustment "
                f"({expected / 100:.2f})"
            )
        items = [InvoiceLine(description, units, cost)]
        if adjustment:
            items.append(InvoiceLine(f"Adjustment: {description}", "1", adjustment))
    inv = invoices.get(number)
    if inv is None:
        inv = invoices[number] = _Invoice(line, row)
    else:
        for name in _SAME_ON_EVERY_LINE:
            if row[name] != inv.head[name]:
                raise ValueError(
                    f"invoice {number}: {name} {row[name]!r} differs from its first line's "
                    f"({inv.head[name]!r}, line {inv.line})"
                )
    inv.lines.extend(items)
    inv.sum_cents += total
