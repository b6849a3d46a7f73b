"""Reading a firm's own exports (CSV from its practice-management system, LEDES 1998B from its
billing system, .ics calendars): the records they hold, and every bad line refused with its
number and reason, nothing taken from a file that has one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal_tui.imports.calendar import read_calendar
from portal_tui.imports.ledes import FIELDS, is_ledes, read_ledes
from portal_tui.imports.records import FileRefused, InvoiceLine
from portal_tui.imports.tabular import (
    parse_renames,
    read_clients,
    read_contacts,
    read_invoices,
    read_matters,
)

# CSV ---------------------------------------------------------------------------------------


def test_clients_from_an_export_with_its_own_column_names() -> None:
    text = (
        "\ufeffClient ID,Display Name,E-mail Address,Phone Number,Date of Birth,Ignored\r\n"
        "C-1,Anna Łukasiewicz,anna@example.test,+48 22 000,1980-02-29,x\r\n"
        '"C-2","Byrne, Eve",,,,\r\n'
        "\r\n"
    )
    clients = read_clients(text).checked("clients.csv")
    assert [(c.line, c.client_id, c.name, c.email) for c in clients] == [
        (2, "C-1", "Anna Łukasiewicz", "anna@example.test"),
        (3, "C-2", "Byrne, Eve", None),
    ]
    assert clients[0].date_of_birth == date(1980, 2, 29)


def test_a_bad_row_refuses_the_file_naming_every_bad_line() -> None:
    text = (
        "client_id,name,email,dob\n"
        "C-1,Ann,not-an-email,\n"
        "C-2,,b@example.test,\n"
        "C-3,Cy,c@example.test,31/12/2020\n"
        "C-4,Di,d@example.test,\n"
    )
    with pytest.raises(FileRefused) as refused:
        read_clients(text).checked("clients.csv")
    assert [(r.line, r.reason) for r in refused.value.refusals] == [
        (2, "'not-an-email' is not an email address"),
        (3, "name is blank"),
        (4, "'31/12/2020' is not a date (YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY)"),
    ]
    assert str(refused.value).startswith("clients.csv: nothing was imported; 3 line(s)")


def test_a_missing_column_is_refused_at_the_header_and_map_names_it() -> None:
    text = "File #,Title,Client Code,Status,Opened\nM-7,Estate of Byrne,C-2,Closed,20260105\n"
    refused = read_matters(text).refusals
    assert [(r.line, r.reason.split(":")[0]) for r in refused] == [
        (1, "no column for number (e.g. 'lawfirmmatterid')")
    ]
    matters = read_matters(text, parse_renames(["File #=number"])).checked("m.csv")
    assert matters[0].number == "M-7" and matters[0].closed
    assert matters[0].opened_on == date(2026, 1, 5) and matters[0].client_id == "C-2"


def test_map_to_an_unknown_field_and_a_malformed_pair_are_refused() -> None:
    with pytest.raises(ValueError, match="COLUMN=FIELD"):
        parse_renames(["no-equals"])
    refused = read_matters("a,b\n", {"a": "nmber"}).refusals
    assert "'nmber', which is not a field here" in refused[0].reason


def test_a_matter_status_that_is_neither_open_nor_closed_is_refused() -> None:
    text = "Matter Number,Matter Name,Client ID,Status\nM-1,A,C-1,Open\nM-2,B,C-1,Frozen\n"
    assert [(r.line, r.reason) for r in read_matters(text).refusals] == [
        (3, "status 'Frozen' is neither open nor closed")
    ]


def test_contacts_and_a_csv_of_invoices() -> None:
    contacts = read_contacts("Client ID,Name,Email,Matter\nC-1,Ann,a@example.test,M-1\n")
    assert contacts.checked("c.csv")[0].matter == "M-1"
    invoices = read_invoices(
        "Invoice Number,Matter Number,Invoice Date,Due Date,Total,Status\n"
        'INV-1,M-1,2026-11-01,2026-12-01,"$1,250.50",Sent\n'
        "INV-2,M-1,2026-11-02,,12.345,Draft\n"
    )
    assert [(r.line, r.reason) for r in invoices.refusals] == [
        (3, "'12.345' has more than two decimals")
    ]
    first = invoices.records[0]
    assert (first.total_cents, first.due_on, first.status) == (125050, date(2026, 12, 1), "Sent")


def test_a_quoted_field_may_hold_a_line_break_and_lines_count_it() -> None:
    text = 'Client ID,Name,Address\nC-1,Ann,"1 Main St\nSpringfield"\nC-2,,x\n'
    parsed = read_clients(text)
    assert parsed.records[0].address == "1 Main St\nSpringfield"
    assert [r.line for r in parsed.refusals] == [4]


def test_an_empty_file_is_refused() -> None:
    assert [r.reason for r in read_clients("").refusals] == ["the file is empty"]


# LEDES 1998B -------------------------------------------------------------------------------

HEADER = "LEDES1998B[]\n" + "|".join(FIELDS) + "[]\n"


def item(
    number: str = "INV-100",
    total: str = "1050.00",
    kind: str = "F",
    units: str = "3.5",
    adjustment: str = "0",
    line_total: str = "1050.00",
    cost: str = "300.00",
    description: str = "Drafting the will",
    matter: str = "M-1",
) -> str:
    row = dict.fromkeys(FIELDS, "")
    row |= {
        "INVOICE_DATE": "20261130",
        "INVOICE_NUMBER": number,
        "CLIENT_ID": "C-1",
        "LAW_FIRM_MATTER_ID": matter,
        "INVOICE_TOTAL": total,
        "INVOICE_DESCRIPTION": "November services",
        "EXP/FEE/INV_ADJ_TYPE": kind,
        "LINE_ITEM_NUMBER_OF_UNITS": units,
        "LINE_ITEM_ADJUSTMENT_AMOUNT": adjustment,
        "LINE_ITEM_TOTAL": line_total,
        "LINE_ITEM_DESCRIPTION": description,
        "LINE_ITEM_UNIT_COST": cost,
    }
    return "|".join(row[f] for f in FIELDS) + "[]\r\n"


def test_ledes_line_items_make_invoices_with_their_lines() -> None:
    text = (
        HEADER
        + item(total="1100.00")
        + item(total="1100.00", kind="E", units="1", cost="60.00", line_total="50.00",
               adjustment="-10.00", description="Court fee")
        + item(number="INV-101", total="99.99", units="1", cost="99.99", line_total="99.99")
    )  # fmt: skip
    assert is_ledes(text)
    invoices = read_ledes(text).checked("nov.ledes")
    assert [(i.number, i.line, i.total_cents, i.issued_on) for i in invoices] == [
        ("INV-100", 3, 110000, date(2026, 11, 30)),
        ("INV-101", 5, 9999, date(2026, 11, 30)),
    ]
    assert invoices[0].lines == (
        InvoiceLine("Drafting the will", "3.5", 30000),
        InvoiceLine("Court fee", "1", 6000),
        InvoiceLine("Adjustment: Court fee", "1", -1000),
    )
    assert invoices[0].memo == "November services" and invoices[0].matter == "M-1"


def test_ledes_totals_that_do_not_add_up_are_refused_with_their_lines() -> None:
    text = (
        HEADER
        + item(total="999.00")  # the lines sum to 1050.00
        + item(number="INV-2", total="10.00", units="2", cost="3.00", line_total="10.00")
        + item(number="INV-3", total="10.00", matter="M-1") + item(number="INV-3", matter="M-9")
    )  # fmt: skip
    refusals = [(r.line, r.reason) for r in read_ledes(text).refusals]
    assert (4, "LINE_ITEM_TOTAL 10.00 is not units x unit cost + adjustment (6.00)") in refusals
    assert any(line == 6 and "LAW_FIRM_MATTER_ID 'M-9' differs" in r for line, r in refusals)
    assert (
        3,
        "invoice INV-100: INVOICE_TOTAL 999.00 is not the sum of its line items (1050.00)",
    ) in refusals


def test_ledes_lines_round_to_the_cent() -> None:
    text = HEADER + item(total="500.00", units="1.5", cost="333.33", line_total="500.00")
    assert read_ledes(text).checked("x")[0].total_cents == 50000


def test_not_ledes_is_one_clear_refusal() -> None:
    assert read_ledes("INVOICE_DATE|...\n").refusals[0].reason.startswith("the first line")
    short = HEADER + "20261130|INV-1|C-1[]\n"
    assert read_ledes(short).refusals[0].reason == "3 fields; a LEDES 1998B line item has 24"
    assert "ASCII" in read_ledes(HEADER + item(description="Zażółć")).refusals[0].reason
    assert read_ledes(HEADER + item(kind="X")).refusals[0].line == 3


# .ics --------------------------------------------------------------------------------------

ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Firm//EN\r
BEGIN:VEVENT\r
UID:hearing-1@firm.test\r
SUMMARY:Hearing\\, courtroom 4\r
DTSTART;TZID=Europe/Warsaw:20261214T093000\r
DTEND;TZID=Europe/Warsaw:20261214T110000\r
LOCATION:District Court\r
DESCRIPTION:Bring the originals.\\nAnd the\r
  witness list.\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:deadline-2@firm.test\r
SUMMARY:Filing deadline\r
DTSTART;VALUE=DATE:20261220\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:call-3@firm.test\r
SUMMARY:Call\r
DTSTART:20261215T150000Z\r
DURATION:PT30M\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_ics_events_keep_their_zone_uid_and_text() -> None:
    zone = ZoneInfo("America/New_York")
    events = read_calendar(ICS, zone).checked("court.ics")
    hearing, deadline, call = events
    assert hearing.uid == "hearing-1@firm.test" and hearing.title == "Hearing, courtroom 4"
    assert hearing.starts_at == datetime(2026, 12, 14, 8, 30, tzinfo=UTC)
    assert hearing.ends_at == datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    assert hearing.description == "Bring the originals.\nAnd the witness list."
    assert hearing.line == 4
    assert deadline.starts_at == datetime(2026, 12, 20, tzinfo=zone)
    assert call.ends_at is not None and call.ends_at - call.starts_at == timedelta(minutes=30)


def test_ics_events_without_uid_or_repeating_without_end_are_refused_with_their_lines() -> None:
    text = ICS.replace("UID:deadline-2@firm.test\r\n", "").replace(
        "DURATION:PT30M\r\n", "DURATION:PT30M\r\nRRULE:FREQ=HOURLY\r\n"
    )
    refusals = [(r.line, r.reason) for r in read_calendar(text, UTC, date(2026, 12, 1)).refusals]
    assert refusals == [
        (13, "the event has no UID"),
        (
            17,
            "event call-3@firm.test: repeats more than 1,000 times before 2028-12-02; give it "
            "an end (UNTIL or COUNT)",
        ),
    ]


REPEATING = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Firm//EN\r
BEGIN:VEVENT\r
UID:review@firm.test\r
SUMMARY:Case review\r
DTSTART;TZID=Europe/London:20261020T090000\r
DTEND;TZID=Europe/London:20261020T100000\r
RRULE:FREQ=WEEKLY;COUNT=4\r
EXDATE;TZID=Europe/London:20261103T090000\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:review@firm.test\r
RECURRENCE-ID;TZID=Europe/London:20261027T090000\r
SUMMARY:Case review (moved)\r
DTSTART;TZID=Europe/London:20261028T140000\r
DTEND;TZID=Europe/London:20261028T150000\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:standup@firm.test\r
SUMMARY:Docket call\r
DTSTART;TZID=America/New_York:20261215T093000\r
RRULE:FREQ=MONTHLY\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_a_repeating_event_is_one_event_per_occurrence_across_a_clock_change() -> None:
    events = read_calendar(REPEATING, UTC, date(2026, 12, 1)).checked("reviews.ics")
    reviews = [e for e in events if e.uid.startswith("review@")]
    # 20, 27 Oct (moved to the 28th), 3 Nov gone (EXDATE), 10 Nov: 9:00 London each time,
    # which is 8:00 UTC in summer time and 9:00 after the clocks go back (25 Oct).
    assert [(e.uid, e.title, e.starts_at) for e in reviews] == [
        ("review@firm.test/20261020T080000Z", "Case review", datetime(2026, 10, 20, 8, tzinfo=UTC)),
        (
            "review@firm.test/20261027T090000Z",
            "Case review (moved)",
            datetime(2026, 10, 28, 14, tzinfo=UTC),
        ),
        ("review@firm.test/20261110T090000Z", "Case review", datetime(2026, 11, 10, 9, tzinfo=UTC)),
    ]
    assert all(
        e.ends_at is not None and e.ends_at - e.starts_at == timedelta(hours=1) for e in reviews
    )
    # Without an end: every month up to two years after the day of the import.
    calls = [e for e in events if e.uid.startswith("standup@")]
    assert calls[0].starts_at == datetime(2026, 12, 15, 14, 30, tzinfo=UTC)
    assert calls[6].starts_at == datetime(2027, 6, 15, 13, 30, tzinfo=UTC)  # summer time there
    assert len(calls) == 24 and calls[-1].starts_at.date() == date(2028, 11, 15)
    # The same file again gives the same ids: a second import matches every occurrence.
    again = read_calendar(REPEATING, UTC, date(2026, 12, 1)).checked("reviews.ics")
    assert [e.uid for e in again] == [e.uid for e in events]


def test_not_a_calendar_is_one_clear_refusal() -> None:
    refused = read_calendar("hello", UTC).refusals
    assert len(refused) == 1 and refused[0].reason.startswith("not an iCalendar file")


def _vevent(*lines: str) -> str:
    body = "\n".join(("BEGIN:VEVENT", "SUMMARY:Closed", *lines, "END:VEVENT"))
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//x//EN\n{body}\nEND:VCALENDAR\n"


@pytest.mark.parametrize(
    ("lines", "days"),
    [
        (("DTSTART;VALUE=DATE:20261224",), (date(2026, 12, 24), date(2026, 12, 24))),
        (
            ("DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261227"),
            (date(2026, 12, 24), date(2026, 12, 26)),
        ),
        (("DTSTART;VALUE=DATE:20261224", "DURATION:P2D"), (date(2026, 12, 24), date(2026, 12, 25))),
        # DTEND equal to DTSTART says nothing more than one day.
        (
            ("DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261224"),
            (date(2026, 12, 24), date(2026, 12, 24)),
        ),
    ],
)
def test_an_all_day_event_is_read_as_its_days_whatever_the_zone(
    lines: tuple[str, ...], days: tuple[date, date]
) -> None:
    for zone in (UTC, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("America/New_York")):
        (event,) = read_calendar(_vevent("UID:c@x", *lines), zone).checked("c.ics")
        assert (event.all_day, event.first_day, event.last_day) == (True, *days)


def test_an_all_day_event_ending_at_a_time_or_before_it_starts_is_refused_with_its_line() -> None:
    at_a_time = _vevent("UID:c@x", "DTSTART;VALUE=DATE:20261224", "DTEND:20261225T000000Z")
    assert [(r.line, r.reason) for r in read_calendar(at_a_time, UTC).refusals] == [
        (4, "event c@x: DTSTART is a date but DTEND is a time")
    ]
    before = _vevent("UID:c@x", "DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261220")
    assert [r.reason for r in read_calendar(before, UTC).refusals] == [
        "event c@x: ends before it starts"
    ]
