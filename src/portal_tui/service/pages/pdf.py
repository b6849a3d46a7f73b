"""An invoice as a PDF (fpdf2): who issued it to whom, its lines, and its totals.

The built-in PDF fonts only cover Latin-1, and the service ships no font file; text is
brought into Latin-1 (typographic quotes and dashes to their plain forms, accents kept where
Latin-1 has them, other letters reduced to their base letter) rather than failing the download.
"""

from __future__ import annotations

import unicodedata

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .render import day, money
from .views import InvoiceView

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u2022": "*",
        "\u20ac": "EUR ",
        "\u00a0": " ",
        # Letters with a stroke have no decomposition to fall back on.
        "\u0141": "L",
        "\u0142": "l",
        "\u0110": "D",
        "\u0111": "d",
    }
)


def latin1(text: str) -> str:
    out: list[str] = []
    for ch in text.translate(_PLAIN):
        if ch in "\r\t":
            out.append(" ")
            continue
        try:
            ch.encode("latin-1")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(
            c
            for c in unicodedata.normalize("NFKD", ch)
            if not unicodedata.combining(c) and c.isascii()
        )
        out.append(base or "?")
    return "".join(out)


def invoice_pdf(invoice: InvoiceView, *, firm_name: str, client_name: str, matter: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(latin1(f"Invoice {invoice.number}"))
    pdf.set_author(latin1(firm_name))
    pdf.set_creator("portal-tui")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    full = pdf.epw

    def line(text: str, *, size: float = 10, style: str = "", align: str = "L") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(full, 6, latin1(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if firm_name:
        line(firm_name, size=16, style="B")
    line(f"Invoice {invoice.number}", size=14, style="B")
    pdf.ln(2)
    line(f"Client: {client_name}")
    line(f"Matter: {matter}")
    if invoice.issued_on:
        line(f"Issued: {day(invoice.issued_on)}")
    if invoice.due_on:
        line(f"Due: {day(invoice.due_on)}")
    pdf.ln(4)

    pdf.set_font("Helvetica", "", 10)
    with pdf.table(
        col_widths=(95, 25, 30, 30),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        first_row_as_headings=True,
    ) as table:
        header = table.row()
        for heading in ("Description", "Quantity", "Rate", "Amount"):
            header.cell(heading)
        for item in invoice.lines:
            row = table.row()
            row.cell(latin1(item.description))
            row.cell(latin1(item.quantity))
            row.cell(money(item.rate_cents))
            row.cell(money(item.amount_cents))
    pdf.ln(4)
    for label, cents, style in (
        ("Total", invoice.total_cents, "B"),
        ("Paid", invoice.paid_cents, ""),
        ("Balance due", invoice.balance_cents, "B"),
    ):
        line(f"{label}: {money(cents)}", style=style, align="R")
    if invoice.memo:
        pdf.ln(4)
        line(invoice.memo, size=9)
    return bytes(pdf.output())
