"""An RFC 5545 calendar of a matter's shared events, for the client's own calendar app: a
timed event at its instants in UTC, an all-day one on its days (VALUE=DATE).

Lines end in CRLF and are folded at 75 octets (never inside a UTF-8 character); TEXT values
escape backslash, semicolon, comma and line breaks (RFC 5545 §3.3.11).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from .views import EventView

PRODID = "-//portal-tui//Client Portal//EN"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape_text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    # Control characters are not allowed in TEXT (only HTAB, and line breaks as \n), so they
    # go rather than break the client's calendar import.
    value = _CONTROL.sub("", value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets; continuation lines start with
    one space, which counts towards their 75."""
    if len(line.encode()) <= 75:
        return line
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    limit = 75
    for ch in line:
        size = len(ch.encode())
        if used + size > limit:
            chunks.append("".join(current))
            current, used, limit = [], 0, 74
        current.append(ch)
        used += size
    chunks.append("".join(current))
    return "\r\n ".join(chunks)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _date(value: date) -> str:
    return value.strftime("%Y%m%d")


def calendar(events: Iterable[EventView], *, name: str, uid_domain: str, now: datetime) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        if event.starts_at is None:
            continue  # an event without a start cannot be placed in a calendar
        lines += [
            "BEGIN:VEVENT",
            # Stable across downloads, so re-importing updates the event instead of doubling it.
            f"UID:event-{event.id}@{uid_domain}",
            f"SEQUENCE:{max(0, event.version)}",
            f"DTSTAMP:{_stamp(event.published_at or now)}",
        ]
        if event.first_day is not None:
            # All day: dates, which the client's calendar keeps on those days in any zone;
            # DTEND is the day after the last (exclusive, RFC 5545 §3.6.1).
            last = event.last_day or event.first_day
            lines += [
                f"DTSTART;VALUE=DATE:{_date(event.first_day)}",
                f"DTEND;VALUE=DATE:{_date(last + timedelta(days=1))}",
            ]
        else:
            lines.append(f"DTSTART:{_stamp(event.starts_at)}")
            if event.ends_at is not None and event.ends_at >= event.starts_at:
                lines.append(f"DTEND:{_stamp(event.ends_at)}")
        lines.append(f"SUMMARY:{escape_text(event.title)}")
        if event.location:
            lines.append(f"LOCATION:{escape_text(event.location)}")
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode()
