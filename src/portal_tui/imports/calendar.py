"""A calendar exported as .ics (RFC 5545): each VEVENT with its UID becomes one event. Times
keep their zone (TZID, or UTC); a floating time is read in the firm's zone; an all-day event
starts at midnight of its day. A recurring event is refused with its line, as the portal shows
single dates only: export its occurrences instead."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from .records import EventRecord, Parsed


def _when(value: Any, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=zone)
    raise ValueError(f"{value!r} is not a date or time")


def _lines_of_events(text: str) -> list[int]:
    """The line each BEGIN:VEVENT is on, in order: how a refusal names its event."""
    return [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "BEGIN:VEVENT"]


def read_calendar(text: str, zone: tzinfo) -> Parsed[EventRecord]:
    # Imported here: only `portal-tui import events` pays for the library (start-up time).
    import icalendar

    parsed: Parsed[EventRecord] = Parsed()
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        parsed.refuse(1, f"not an iCalendar file: {exc}")
        return parsed
    starts = _lines_of_events(text)
    for index, event in enumerate(calendar.walk("VEVENT")):
        line = starts[index] if index < len(starts) else 1
        try:
            parsed.records.append(_event(line, event, zone))
        except (ValueError, TypeError) as exc:
            parsed.refuse(line, str(exc))
    if not calendar.walk("VEVENT") and not parsed.refusals:
        parsed.refuse(1, "the calendar holds no event (VEVENT)")
    return parsed


def _event(line: int, event: Any, zone: tzinfo) -> EventRecord:
    uid = str(event.get("UID", "")).strip()
    if not uid:
        raise ValueError("the event has no UID")
    if event.get("RRULE") is not None:
        raise ValueError(f"event {uid}: repeats (RRULE); export its occurrences instead")
    start = event.get("DTSTART")
    if start is None:
        raise ValueError(f"event {uid}: no DTSTART")
    starts_at = _when(start.dt, zone)
    ends_at: datetime | None = None
    if event.get("DTEND") is not None:
        ends_at = _when(event["DTEND"].dt, zone)
    elif event.get("DURATION") is not None:
        duration = event["DURATION"].dt
        if not isinstance(duration, timedelta):
            raise ValueError(f"event {uid}: DURATION is not a duration")
        ends_at = starts_at + duration
    if ends_at is not None and ends_at < starts_at:
        raise ValueError(f"event {uid}: ends before it starts")
    title = str(event.get("SUMMARY", "")).strip() or "(no title)"
    location = str(event.get("LOCATION", "")).strip() or None
    description = str(event.get("DESCRIPTION", "")).strip() or None
    return EventRecord(line, uid, title, starts_at, ends_at, location, description)
