"""What a firm imports from its own files reaches its client as the files say, through a real
`portal-tui serve`: an invoice's total changed in the billing export and imported again is the
total the client sees after `portal-tui sync`; a calendar with repeating events in two zones
(Europe/London across a clock change, America/New_York) comes back out of the portal's
calendar.ics at the same instants, read with the icalendar package; all-day events, of one
day and of several, come back out of it as the same dates (VALUE=DATE), not as times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import pytest

from portal_tui.domain import ItemKind
from portal_tui.repository.portal_client import PortalClient

from .support import Browser, Firm, Service, activate_clients, deliver_all, portal_tui

MATTER_NUMBER = "2026-0001"  # the first client's first matter (build_firm), portal ON


@pytest.fixture
def browser(service: Service) -> Iterator[Browser]:
    opened = Browser(service.base)
    try:
        yield opened
    finally:
        opened.close()


def _run(env: dict[str, str], firm_url: str, service: Service, *args: str) -> str:
    done = portal_tui(
        {
            **env,
            "PORTAL_TUI_DATABASE_URL": firm_url,
            "PORTAL_TUI_STAFF_USER": "admin",
            "PORTAL_TUI_PORTAL_URL": service.base,
            "PORTAL_TUI_PORTAL_TOKEN": service.token,
        },
        *args,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_changed_total_reimported_is_the_total_the_client_sees_after_sync(
    service: Service,
    firm: Firm,
    portal: PortalClient,
    browser: Browser,
    env: dict[str, str],
    firm_url: str,
    tmp_path: Path,
) -> None:
    activate_clients(firm, service, portal)
    export = tmp_path / "invoices.csv"
    export.write_text(
        f"Invoice Number,Matter,Invoice Date,Due Date,Total,Status\n"
        f'INV-9001,{MATTER_NUMBER},2026-11-02,2026-12-02,"$1,250.00",final\n',
        encoding="utf-8",
    )
    _run(env, firm_url, service, "import", "invoices", str(export), "--apply")
    repo = firm.repo
    (invoice,) = [row.id for row in repo.list_items(ItemKind.INVOICE, text="INV-9001").rows]
    repo.share(ItemKind.INVOICE, invoice, confirmed=True)
    deliver_all(repo, portal)
    client = firm.clients[0]
    browser.log_in(client.email)
    page = f"/m/{client.matters[0]}/invoices/{invoice}"
    assert "1,250.00" in browser.get(page).text

    export.write_text(export.read_text().replace('"$1,250.00"', '"$1,400.00"'))
    said = _run(env, firm_url, service, "import", "invoices", str(export), "--apply")
    assert "0 invoices added, 1 changed" in said and "changed: INV-9001" in said
    _run(env, firm_url, service, "sync")
    shown = browser.get(page).text
    assert "1,400.00" in shown and "1,250.00" not in shown
    # The same file once more: nothing changes, nothing goes to the portal.
    again = _run(env, firm_url, service, "import", "invoices", str(export), "--apply")
    assert "0 invoices added, 0 changed, 1 already as the file says." in again
    assert repo.pending_deliveries() == 0


CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Court diary//EN\r
BEGIN:VEVENT\r
UID:review@harbor.example\r
SUMMARY:Case review\r
DTSTART;TZID=Europe/London:20271020T090000\r
DTEND;TZID=Europe/London:20271020T100000\r
RRULE:FREQ=WEEKLY;COUNT=3\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:docket@harbor.example\r
SUMMARY:Docket call\r
LOCATION:Courtroom 4\r
DTSTART;TZID=America/New_York:20270310T093000\r
DURATION:PT30M\r
RRULE:FREQ=WEEKLY;COUNT=2\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:hearing@harbor.example\r
SUMMARY:Final hearing\r
DTSTART:20270601T130000Z\r
DTEND:20270601T150000Z\r
END:VEVENT\r
END:VCALENDAR\r
"""

# Each occurrence's instant: London goes back an hour on 31 Oct 2027, New York forward on
# 14 Mar 2027 — the wall-clock time stays, the instant moves.
EXPECTED = {
    ("Case review", datetime(2027, 10, 20, 8, 0, tzinfo=UTC)),
    ("Case review", datetime(2027, 10, 27, 8, 0, tzinfo=UTC)),
    ("Case review", datetime(2027, 11, 3, 9, 0, tzinfo=UTC)),
    ("Docket call", datetime(2027, 3, 10, 14, 30, tzinfo=UTC)),
    ("Docket call", datetime(2027, 3, 17, 13, 30, tzinfo=UTC)),
    ("Final hearing", datetime(2027, 6, 1, 13, 0, tzinfo=UTC)),
}


def test_repeating_events_in_two_zones_round_trip_through_the_portals_calendar(
    service: Service,
    firm: Firm,
    portal: PortalClient,
    browser: Browser,
    env: dict[str, str],
    firm_url: str,
    tmp_path: Path,
) -> None:
    activate_clients(firm, service, portal)
    diary = tmp_path / "diary.ics"
    diary.write_text(CALENDAR, encoding="utf-8")
    said = _run(
        env, firm_url, service, "import", "events", "--matter", MATTER_NUMBER, str(diary), "--apply"
    )
    assert "6 events added" in said
    repo = firm.repo
    client = firm.clients[0]
    matter = client.matters[0]
    for row in repo.list_items(ItemKind.EVENT, matter_id=matter).rows:
        repo.share(ItemKind.EVENT, row.id)
    deliver_all(repo, portal)
    browser.log_in(client.email)
    download = browser.get(f"/m/{matter}/calendar.ics")
    assert download.status_code == 200
    calendar = icalendar.Calendar.from_ical(download.content)
    back = {(str(e["SUMMARY"]), e["DTSTART"].dt.astimezone(UTC)) for e in calendar.walk("VEVENT")}
    assert back == EXPECTED
    durations = {
        str(e["SUMMARY"]): e["DTEND"].dt - e["DTSTART"].dt for e in calendar.walk("VEVENT")
    }
    assert durations["Docket call"].total_seconds() == 30 * 60
    assert durations["Final hearing"].total_seconds() == 2 * 3600
    # Imported again: every occurrence is matched by its UID, nothing added or changed.
    again = _run(
        env, firm_url, service, "import", "events", "--matter", MATTER_NUMBER, str(diary), "--apply"
    )
    assert "0 events added, 0 changed, 6 already as the file says." in again


# A court's closures as a diary exports them: dates, no times (VALUE=DATE), DTEND the day
# after the last (RFC 5545), one of a single day without a DTEND.
ALL_DAY_CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Court diary//EN\r
BEGIN:VEVENT\r
UID:closed@harbor.example\r
SUMMARY:Court closed\r
DTSTART;VALUE=DATE:20271224\r
DTEND;VALUE=DATE:20271228\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:filing@harbor.example\r
SUMMARY:Filing deadline\r
DTSTART;VALUE=DATE:20271015\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_p2_all_day_events_come_back_out_of_the_portals_calendar_as_dates(
    service: Service,
    firm: Firm,
    portal: PortalClient,
    browser: Browser,
    env: dict[str, str],
    firm_url: str,
    tmp_path: Path,
) -> None:
    activate_clients(firm, service, portal)
    diary = tmp_path / "closures.ics"
    diary.write_text(ALL_DAY_CALENDAR, encoding="utf-8")
    args = ("import", "events", "--matter", MATTER_NUMBER, str(diary), "--apply")
    assert "2 events added" in _run(env, firm_url, service, *args)
    repo = firm.repo
    client = firm.clients[0]
    matter = client.matters[0]
    for row in repo.list_items(ItemKind.EVENT, matter_id=matter).rows:
        repo.share(ItemKind.EVENT, row.id)
    deliver_all(repo, portal)
    browser.log_in(client.email)

    page = browser.get(f"/m/{matter}/calendar").text
    assert "All day, Fri 24 Dec 2027 – Mon 27 Dec 2027" in page
    assert "All day, Fri 15 Oct 2027" in page
    calendar = icalendar.Calendar.from_ical(browser.get(f"/m/{matter}/calendar.ics").content)
    back = {str(e["SUMMARY"]): (e["DTSTART"], e["DTEND"]) for e in calendar.walk("VEVENT")}
    assert {title: (s.dt, e.dt) for title, (s, e) in back.items()} == {
        "Court closed": (date(2027, 12, 24), date(2027, 12, 28)),
        "Filing deadline": (date(2027, 10, 15), date(2027, 10, 16)),
    }
    for start, end in back.values():
        # Dates, not midnights of some zone: every calendar shows them on these days.
        assert type(start.dt) is date and type(end.dt) is date
        assert start.params["VALUE"] == end.params["VALUE"] == "DATE"

    assert "0 events added, 0 changed, 2 already as the file says." in _run(
        env, firm_url, service, *args
    )
    # A day more of closure: the shared event changes, and after a sync the client's does too.
    diary.write_text(ALL_DAY_CALENDAR.replace("20271228", "20271229"), encoding="utf-8")
    said = _run(env, firm_url, service, *args)
    assert "0 events added, 1 changed" in said
    _run(env, firm_url, service, "sync")
    assert "All day, Fri 24 Dec 2027 – Tue 28 Dec 2027" in browser.get(f"/m/{matter}/calendar").text
