"""A calendar exported as .ics (RFC 5545): each VEVENT with its UID becomes one event. Times
keep their zone (TZID, or UTC); a floating time is read in the firm's zone. An all-day event
(DTSTART;VALUE=DATE) keeps its days: DTEND is the day after its last (exclusive, RFC 5545
§3.6.1), DURATION counts whole days, neither makes it one day; its instants are the midnights
of those days in the firm's zone, to place it among timed events.

A repeating event (RRULE, RDATE, less its EXDATEs) becomes one event per occurrence, as the
portal shows single dates: each keeps the series' UID with its start after a slash
(`uid/20261214T093000Z`), so a second import matches every occurrence again, and a changed
occurrence (a VEVENT with the same UID and a RECURRENCE-ID) takes the place of the one it
changes. A series without an end is taken up to REPEAT_HORIZON after the day of the import;
one of more than MAX_OCCURRENCES is refused with its line (give it an end)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from .records import EventRecord, Parsed

MAX_OCCURRENCES = 1000
MAX_UID = 230  # events.uid holds 255: room for an occurrence's "/20261214T093000Z"
REPEAT_HORIZON = timedelta(days=2 * 366)


def _when(value: Any, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tzinfo=zone)
    raise ValueError(f"{value!r} is not a date or time")


def _lines_of_events(text: str) -> list[int]:
    """The line each BEGIN:VEVENT is on, in order: how a refusal names its event."""
    return [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "BEGIN:VEVENT"]


def read_calendar(text: str, zone: tzinfo, today: date | None = None) -> Parsed[EventRecord]:
    # Imported here: only `portal-tui import events` pays for the library (start-up time).
    import icalendar

    horizon = datetime.combine(today or date.today(), time(0, 0), tzinfo=UTC) + REPEAT_HORIZON

    parsed: Parsed[EventRecord] = Parsed()
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        parsed.refuse(1, f"not an iCalendar file: {exc}")
        return parsed
    starts = _lines_of_events(text)
    changed: dict[str, EventRecord] = {}  # occurrence uid -> the VEVENT that changes it
    events: list[Any] = list(calendar.walk("VEVENT"))
    for index, event in enumerate(events):
        line = starts[index] if index < len(starts) else 1
        try:
            record = _event(line, event, zone)
            if event.get("RECURRENCE-ID") is not None:
                at = _when(event["RECURRENCE-ID"].dt, zone)
                key = _occurrence_uid(record.uid, at)
                changed[key] = replace(record, uid=key)
            elif _repeats(event):
                parsed.records.extend(_occurrences(record, event, zone, horizon))
            else:
                parsed.records.append(record)
        except (ValueError, TypeError) as exc:
            parsed.refuse(line, str(exc))
    if changed:
        kept = [changed.pop(r.uid, r) for r in parsed.records]
        # A change of an occurrence the series does not have (moved out of its range, say)
        # is an event of its own.
        parsed.records[:] = kept + list(changed.values())
    if not calendar.walk("VEVENT") and not parsed.refusals:
        parsed.refuse(1, "the calendar holds no event (VEVENT)")
    return parsed


def _event(line: int, event: Any, zone: tzinfo) -> EventRecord:
    uid = str(event.get("UID", "")).strip()
    if not uid:
        raise ValueError("the event has no UID")
    if len(uid) > MAX_UID:
        raise ValueError(f"the event's UID is longer than {MAX_UID} characters")
    start = event.get("DTSTART")
    if start is None:
        raise ValueError(f"event {uid}: no DTSTART")
    if _is_day(start.dt):
        return _all_day(line, uid, event, start.dt, zone)
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
    title, location, description = _texts(event)
    return EventRecord(line, uid, title, starts_at, ends_at, location, description)


def _texts(event: Any) -> tuple[str, str | None, str | None]:
    """Its title, location and description."""
    title = str(event.get("SUMMARY", "")).strip() or "(no title)"
    location = str(event.get("LOCATION", "")).strip() or None
    description = str(event.get("DESCRIPTION", "")).strip() or None
    return title, location, description


def _is_day(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _all_day(line: int, uid: str, event: Any, first: date, zone: tzinfo) -> EventRecord:
    last = first
    if event.get("DTEND") is not None:
        end = event["DTEND"].dt
        if not _is_day(end):
            raise ValueError(f"event {uid}: DTSTART is a date but DTEND is a time")
        if end < first:
            raise ValueError(f"event {uid}: ends before it starts")
        last = max(first, end - timedelta(days=1))  # DTEND is the day after the last
    elif event.get("DURATION") is not None:
        duration = event["DURATION"].dt
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise ValueError(f"event {uid}: DURATION is not a duration")
        last = first + timedelta(days=max(0, duration.days - 1))
    title, location, description = _texts(event)
    return EventRecord(
        line,
        uid,
        title,
        starts_at=_when(first, zone),
        ends_at=_when(last + timedelta(days=1), zone),
        location=location,
        description=description,
        all_day=True,
        first_day=first,
        last_day=last,
    )


def _repeats(event: Any) -> bool:
    return event.get("RRULE") is not None or event.get("RDATE") is not None


def _occurrence_uid(uid: str, at: datetime) -> str:
    return f"{uid}/{at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def _dates(prop: Any, zone: tzinfo) -> list[datetime]:
    """The times of an RDATE or EXDATE property (one, or a list of them)."""
    found: list[datetime] = []
    for each in prop if isinstance(prop, list) else [prop]:
        found += [_when(d.dt, zone) for d in each.dts]
    return found


def _occurrences(
    first: EventRecord, event: Any, zone: tzinfo, horizon: datetime
) -> list[EventRecord]:
    from dateutil.rrule import rruleset, rrulestr

    start = first.starts_at
    length = first.ends_at - start if first.ends_at is not None else None
    series = rruleset()
    rules = event.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        series.rrule(rrulestr(rule.to_ical().decode(), dtstart=start))
    if event.get("RDATE") is not None:
        for extra in _dates(event["RDATE"], zone):
            series.rdate(extra)
    if event.get("EXDATE") is not None:
        for gone in _dates(event["EXDATE"], zone):
            series.exdate(gone)
    times: list[datetime] = []
    for at in series:
        if at > horizon:
            break
        times.append(at)
        if len(times) > MAX_OCCURRENCES:
            raise ValueError(
                f"event {first.uid}: repeats more than {MAX_OCCURRENCES:,} times before "
                f"{horizon.date().isoformat()}; give it an end (UNTIL or COUNT)"
            )
    # An occurrence of an all-day series is on the day it falls on in the zone its first
    # day's midnight was read in, its span kept.
    span = first.last_day - first.first_day if first.first_day and first.last_day else None
    return [
        replace(
            first,
            uid=_occurrence_uid(first.uid, at),
            starts_at=at,
            ends_at=at + length if length is not None else None,
            first_day=at.date() if span is not None else None,
            last_day=at.date() + span if span is not None else None,
        )
        for at in times
    ]
