"""The values found in exports, read strictly: a date in the forms exports write, an amount of
money to the cent, an email address. Each raises ValueError with the reason a user reads."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

# ISO first; then what US (month first) and LEDES (YYYYMMDD) exports write. A day-first export
# is renamed with --map or converted: 03/04/2026 cannot be told apart.
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y", "%Y/%m/%d")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def day(text: str) -> date:
    value = text.strip()
    if _ISO_DAY.fullmatch(value):
        # The usual form, read ten times quicker than by strptime (a big file has one a row).
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass  # 2026-02-30: refused below, with the same reason as any other
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY)")


def optional_day(text: str | None) -> date | None:
    return day(text) if text and text.strip() else None


def cents(text: str) -> int:
    """An amount such as 1,250.00, $1250 or -35.5, in cents; more than two decimals refused."""
    value = text.strip().replace(",", "").replace("$", "").replace("€", "").replace("£", "")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{text.strip()!r} is not an amount")
    hundred = amount * 100
    if hundred != hundred.to_integral_value():
        raise ValueError(f"{text.strip()!r} has more than two decimals")
    return int(hundred)


def quantity(text: str) -> str:
    value = text.strip() or "1"
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a quantity") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{value!r} is not a quantity")
    return value


def email(text: str) -> str:
    value = text.strip()
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def optional_email(text: str | None) -> str | None:
    return email(text) if text and text.strip() else None
