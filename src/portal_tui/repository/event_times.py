"""When an event is, as the firm database keeps it: a timed event by its instants, an all-day
one by its days (domain/event_days.py) and, to sort and filter among timed ones, the instants
of midnight to midnight of those days in the firm's zone. The Add/Edit screens and an import
of a calendar file both go through `event_when`, so an event looks the same whichever way in."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from portal_tui.domain.decision import Invalid
from portal_tui.domain.event_days import ENDS_BEFORE_START, checked_days

# The fields of an event that say when it is: `event_when` sets all of them together.
WHEN_FIELDS = ("all_day", "first_day", "last_day", "starts_at", "ends_at")


def midnight(day: date) -> datetime:
    """The start of a day in the firm's zone, which is the machine's (as for a calendar file's
    floating times). A naive time's astimezone() takes the offset of that very day, so a day
    in summer starts at its summer midnight."""
    return datetime.combine(day, time(0, 0)).astimezone()


def event_when(values: dict[str, Any]) -> dict[str, Any]:
    """Every field of WHEN_FIELDS, checked, from those of them `values` holds."""
    if values.get("all_day"):
        first, last = checked_days(values.get("first_day"), values.get("last_day"))
        return {
            "all_day": True,
            "first_day": first,
            "last_day": last,
            "starts_at": midnight(first),
            "ends_at": midnight(last + timedelta(days=1)),
        }
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    if starts_at is None:
        raise Invalid("Starts cannot be blank.")
    if ends_at is not None and ends_at < starts_at:
        raise Invalid(ENDS_BEFORE_START)
    return {
        "all_day": False,
        "first_day": None,
        "last_day": None,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
