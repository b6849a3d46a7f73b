"""Jinja2 for the client pages. Autoescape is on for every template: all client and firm data
(names like "Smith [Deceased]", titles with markup) must reach the browser as text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from portal_tui.domain.texts import ALL_DAY

from .views import EventView, InvoiceListRow

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{frac:02d}"


# The portal speaks English whatever the server's locale (strftime's %b and %a follow it, and
# cost several times a lookup: a long list formats hundreds of dates).
MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {MONTHS[value.month]} {value.year}"


def when(value: datetime | None) -> str:
    # The portal has no notion of the client's time zone; stating UTC beats guessing.
    if value is None:
        return ""
    return (
        f"{WEEKDAYS[value.weekday()]} {value.day} {MONTHS[value.month]} {value.year}, "
        f"{value.hour:02d}:{value.minute:02d} UTC"
    )


def _weekday(value: date) -> str:
    return f"{WEEKDAYS[value.weekday()]} {day(value)}"


def event_when(event: EventView) -> str:
    """When an event is, as its pages say it: the instants of a timed one in UTC, the days of
    an all-day one (dates are the same in every zone)."""
    if event.first_day is None:
        if event.ends_at is None:
            return when(event.starts_at)
        return f"{when(event.starts_at)} – {when(event.ends_at)}"
    last = event.last_day or event.first_day
    if last == event.first_day:
        return f"{ALL_DAY}, {_weekday(event.first_day)}"
    return f"{ALL_DAY}, {_weekday(event.first_day)} – {_weekday(last)}"


def size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


# The invoice list's rows are formatted here rather than by a loop in invoices.html: it is the
# portal's busiest page, and Jinja spends about three times as long per row (a lookup and an
# escape per field). Escaping stays the rule: the number is the firm's text and is escaped; the
# rest are integers (":d") and the outputs of `day` and `money` (digits, month names, ", .-").
# Amounts and dates repeat from row to row and page to page: each is formatted once per process
# (dates only as `date`: equal aware datetimes can fall on different days).
_money = lru_cache(maxsize=4096)(money)
_day = lru_cache(maxsize=4096)(day)


def _invoice_row(base: str, row: InvoiceListRow) -> str:
    number = escape(row.number)
    return f"""  <tr>
    <td><a href="{base}/{row.id:d}">{number}</a></td>
    <td>{_day(row.issued_on)}</td>
    <td>{_day(row.due_on)}</td>
    <td class="num">{_money(row.total_cents)}</td>
    <td class="num">{_money(row.paid_cents)}</td>
    <td class="num">{_money(row.balance_cents)}</td>
    <td><a href="{base}/{row.id:d}.pdf" download>Download<span class="visually-hidden"> \
invoice {number} as PDF</span></a></td>
  </tr>
"""


def invoice_rows(rows: Iterable[InvoiceListRow], base: str) -> Markup:
    """The <tr> of each invoice in the list; `base` is the list's path."""
    href = str(escape(base))
    return Markup("".join([_invoice_row(href, row) for row in rows]))


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    # Templates are part of the build: each is compiled once per process and reused, never
    # checked against its file again (auto_reload would stat it, and its parent, per render).
    auto_reload=False,
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    money=money,
    day=day,
    when=when,
    event_when=event_when,
    size=size,
    invoice_rows=invoice_rows,
)


def render_text(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def render(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render_text(template, **context), status_code=status_code)
