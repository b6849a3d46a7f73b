"""An all-day event's days (RFC 5545 VALUE=DATE): dates, not instants, so no time zone moves
them. The last day is included; a calendar file's DTEND is the day after it (exclusive)."""

from __future__ import annotations

from datetime import date

from .decision import Invalid

ENDS_BEFORE_START = "An event cannot end before it starts."


def checked_days(first: date | None, last: date | None) -> tuple[date, date]:
    """The first and last day of an all-day event as kept: no last day is one day."""
    if first is None:
        raise Invalid("An all-day event needs its day.")
    last = first if last is None else last
    if last < first:
        raise Invalid(ENDS_BEFORE_START)
    return first, last
