"""The client's flows through the pages: P1 (invitation), C4 (choosing a matter), P2 (each
screen), S4 (a form submitted once), S5 (replies), S7 (what is taken away is gone at once),
the .ics calendar and the invoice PDF."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import func, select

from portal_tui.domain.kinds import Category, ItemKind
from portal_tui.service.models import (
    Account,
    Change,
    ClientMessage,
    ClientSession,
    ClientUpload,
    FormSubmission,
    ItemView,
    MailMessage,
    PortalContact,
)
from portal_tui.service.pages import ics
from portal_tui.service.pages.pdf import invoice_pdf, latin1
from portal_tui.service.pages.views import InvoiceLine, InvoiceView
from portal_tui.sqltypes import utcnow

from .conftest import (
    ANN,
    CONTACT_ANN_A,
    CONTACT_ANN_C,
    CONTACT_CAT_A,
    GOOD_ANSWERS,
    HIDDEN,
    INVITE_ANN_C,
    INVITE_CAT,
    MATTER_A,
    MATTER_C,
    PASSWORD,
    SHOWN,
    Browser,
    Portal,
    Scene,
    event_data,
    invoice_data,
    iso,
    marker,
    task_data,
)

A = f"/m/{MATTER_A}"


def changes(portal: Portal, type_: str | None = None) -> list[Change]:
    with portal.db.read() as s:
        query = select(Change).order_by(Change.seq)
        if type_ is not None:
            query = query.where(Change.type == type_)
        return list(s.scalars(query))


def count(portal: Portal, model: Any) -> int:
    with portal.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# P1 -------------------------------------------------------------------------------------------


def test_p1_invitation_sets_password_activates_and_logs_in(portal: Portal, scene: Scene) -> None:
    cat = portal.anonymous()
    page = cat.get(f"/invite/{INVITE_CAT}")
    assert page.status_code == 200
    assert "Welcome, Cat Smith" in page.text and "cat@example.com" in page.text
    cat.set_cookies(page)  # the double-submit cookie, as a browser keeps it
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]

    def set_password(password: str, confirm: str) -> Any:
        return cat._send(
            "POST",
            f"/invite/{INVITE_CAT}",
            data={"csrf": token, "password": password, "confirm": confirm},
        )

    short = set_password("short", "short")
    assert short.status_code == 400 and "Use at least 12 characters." in short.text
    weak = set_password("password1234", "password1234")
    assert weak.status_code == 400 and "This password would be easy to guess" in weak.text
    mismatch = set_password(PASSWORD, PASSWORD + "!")
    assert mismatch.status_code == 400 and "The two passwords are not the same." in mismatch.text
    with portal.db.read() as s:
        assert s.get(Account, 3).password_hash is None  # type: ignore[union-attr]

    done = set_password(PASSWORD, PASSWORD)
    assert done.status_code == 303
    assert done.headers["location"] == f"{A}/"
    cat.set_cookies(done)
    assert "portal_session" in cat.cookies
    dashboard = cat.get(f"{A}/")
    assert dashboard.status_code == 200 and "Cat Smith" in dashboard.text

    with portal.db.read() as s:
        account = s.get(Account, 3)
        contact = s.get(PortalContact, CONTACT_CAT_A)
        assert account is not None and contact is not None
        assert account.password_hash is not None and account.password_hash.startswith("$argon2id$")
        assert account.activated_at is not None and account.last_login_at is not None
        assert contact.status == "active" and contact.invite_hash is None
    activation = changes(portal, "activation")
    assert [(c.matter_id, c.payload) for c in activation] == [
        (MATTER_A, {"contact_id": CONTACT_CAT_A, "account_id": 3})
    ]
    assert [c.payload for c in changes(portal, "login")] == [{"account_id": 3}]

    # The link is spent; the password now works on the log-in page.
    assert portal.anonymous().get(f"/invite/{INVITE_CAT}").status_code == 404
    login = portal.anonymous().post_prelogin(
        "/login", {"email": "CAT@example.com", "password": PASSWORD}
    )
    assert login.status_code == 303


@pytest.mark.parametrize("case", ["wrong", "expired", "disabled", "removed"])
def test_p1_dead_invitation_links_are_a_friendly_404(
    portal: Portal, scene: Scene, case: str
) -> None:
    secret = INVITE_CAT
    if case == "wrong":
        secret = "not-a-real-invitation-secret"
    elif case == "expired":
        portal.set_contact(CONTACT_CAT_A, invite_expires_at=utcnow() - timedelta(minutes=1))
    else:
        portal.set_contact(CONTACT_CAT_A, status=case)
    page = portal.anonymous().get(f"/invite/{secret}")
    assert page.status_code == 404
    assert "This invitation link is not valid any more" in page.text
    post = portal.anonymous().post_prelogin(
        f"/invite/{secret}", {"password": PASSWORD, "confirm": PASSWORD}
    )
    assert post.status_code == 404
    assert changes(portal, "activation") == []


def test_p1_c4_second_matter_invitation_is_accepted_after_logging_in(
    portal: Portal, scene: Scene
) -> None:
    ann = portal.anonymous()
    page = ann.get(f"/invite/{INVITE_ANN_C}")
    assert page.status_code == 200
    assert "You already have a client portal account" in page.text
    assert f'href="/login?next=/invite/{INVITE_ANN_C}"' in page.text

    login = ann.post_prelogin(
        "/login",
        {"email": "ann@example.com", "password": PASSWORD, "next": f"/invite/{INVITE_ANN_C}"},
    )
    assert login.headers["location"] == f"/invite/{INVITE_ANN_C}"
    ann.set_cookies(login)
    ann.csrf = None
    offer = ann.get(f"/invite/{INVITE_ANN_C}")
    assert "Add it to my portal" in offer.text and "Smith Trust" in offer.text
    ann.csrf = re.findall(r'name="csrf" value="([^"]+)"', offer.text)[-1]
    accepted = ann.post(f"/invite/{INVITE_ANN_C}/accept")
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/m/{MATTER_C}/"
    with portal.db.read() as s:
        assert s.get(PortalContact, CONTACT_ANN_C).status == "active"  # type: ignore[union-attr]
    assert [c.payload["contact_id"] for c in changes(portal, "activation")] == [CONTACT_ANN_C]

    # C4: two matters now; a fresh log-in lands on the chooser.
    again = portal.anonymous().post_prelogin(
        "/login", {"email": "ann@example.com", "password": PASSWORD}
    )
    fresh = Browser(portal, {}, None)
    fresh.set_cookies(again)
    chooser = fresh.get("/")
    assert chooser.status_code == 200
    assert "Choose the matter" in chooser.text
    assert f'href="{A}/"' in chooser.text and f'href="/m/{MATTER_C}/"' in chooser.text


# C4 -------------------------------------------------------------------------------------------


def test_c4_one_matter_opens_directly_several_choose(portal: Portal, scene: Scene) -> None:
    ann = portal.as_user(ANN)
    assert ann.get("/").headers["location"] == f"{A}/"
    portal.set_contact(CONTACT_ANN_C, status="active", invite_hash=None)
    chooser = ann.get("/")
    assert chooser.status_code == 200
    assert "Estate of Smith [Deceased]" in chooser.text and "Smith Trust" in chooser.text
    # The matter chosen lives in the session: "/" goes back to it...
    assert ann.get(f"/m/{MATTER_C}/").status_code == 200
    assert ann.get("/").headers["location"] == f"/m/{MATTER_C}/"
    # ... and the chooser stays one click away, linked from every page.
    assert 'href="/matters"' in ann.get(f"/m/{MATTER_C}/").text
    assert "Smith Trust" in ann.get("/matters").text
    # Turning that matter off takes it out of the choice at once (S7).
    portal.set_matter(MATTER_C, enabled=False)
    assert ann.get("/").headers["location"] == f"{A}/"


# P2 -------------------------------------------------------------------------------------------

SCREENS = [
    ("invoices", ItemKind.INVOICE),
    ("calendar", ItemKind.EVENT),
    ("tasks", ItemKind.TASK),
    ("notes", ItemKind.NOTE),
    ("documents", ItemKind.DOCUMENT),
    ("messages", ItemKind.MESSAGE),
]


@pytest.mark.parametrize(("path", "kind"), SCREENS, ids=[p for p, _ in SCREENS])
def test_p2_screen_shows_the_published_item_and_not_an_unpublished_one(
    portal: Portal, scene: Scene, ann: Browser, path: str, kind: ItemKind
) -> None:
    page = ann.get(f"{A}/{path}")
    assert page.status_code == 200
    assert marker(kind) in page.text
    assert marker(kind, "hidden") not in page.text
    assert marker(kind, "bobs") not in page.text


def test_p2_forms_drop_down_lists_shared_forms_on_every_matter_page(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    for path in ("", "invoices", "notes", "messages"):
        text = ann.get(f"{A}/{path}").text
        menu = text[text.index('<details class="menu forms-menu">') : text.index("</details>")]
        assert f'href="{A}/forms/{SHOWN[ItemKind.FORM]}"' in menu
        assert marker(ItemKind.FORM) in menu
        assert marker(ItemKind.FORM, "hidden") not in menu
        # At the top of the page, before the navigation and the content.
        assert text.index("forms-menu") < text.index('<main id="main">')


def test_p2_dashboard_shows_what_is_pending_and_upcoming(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    portal.item(ItemKind.INVOICE, 13, matter_id=MATTER_A, data=invoice_data("PAID-UP", 500, 500))
    portal.item(ItemKind.TASK, 33, matter_id=MATTER_A, data=task_data("ALREADY-DONE", done=True))
    past = event_data("LONG-AGO", utcnow() - timedelta(days=30))
    portal.item(ItemKind.EVENT, 23, matter_id=MATTER_A, data=past)
    early = task_data("DUE-FIRST", due=date.today() + timedelta(days=1))
    portal.item(ItemKind.TASK, 34, matter_id=MATTER_A, data=early)
    text = ann.get(f"{A}/").text
    for shown in (marker(ItemKind.INVOICE), marker(ItemKind.TASK), marker(ItemKind.EVENT)):
        assert shown in text
    for gone in ("PAID-UP", "ALREADY-DONE", "LONG-AGO"):
        assert gone not in text
    assert text.index("DUE-FIRST") < text.index(marker(ItemKind.TASK))
    # The past event and the finished task still have their screens.
    assert "LONG-AGO" in ann.get(f"{A}/calendar").text
    assert "ALREADY-DONE" in ann.get(f"{A}/tasks").text


def test_p2_only_permitted_categories_are_offered(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    portal.set_matter(
        MATTER_A, permissions=frozenset({Category.INVOICES, Category.NOTES, Category.FORMS})
    )
    portal.firm(permissions=frozenset(Category) - {Category.FORMS})
    text = ann.get(f"{A}/").text
    nav = text[text.index('<nav class="screens"') : text.index("</nav>")]
    assert re.findall(r">(\w+)</a>", nav) == ["Dashboard", "Invoices", "Notes"]
    assert "forms-menu" not in text  # Forms: on at the matter, off at the firm (F4)
    assert "Upcoming tasks" not in text
    for path in ("calendar", "calendar.ics", "tasks", "documents", "messages"):
        assert ann.get(f"{A}/{path}").status_code == 404, path
    assert ann.get(f"{A}/forms/{SHOWN[ItemKind.FORM]}").status_code == 404
    assert ann.upload(f"{A}/documents", "a.pdf", b"x").status_code == 404
    assert ann.post(f"{A}/messages", {"body": "hi"}).status_code == 404
    assert ann.get(f"{A}/notes").status_code == 200


def test_p2_invoice_page_pdf_and_first_view_and_download(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    item = SHOWN[ItemKind.INVOICE]
    for _ in range(2):
        page = ann.get(f"{A}/invoices/{item}")
        assert page.status_code == 200
        assert "1,500.00" in page.text and f"Consultation {marker(ItemKind.INVOICE)}" in page.text
    for _ in range(2):
        pdf = ann.get(f"{A}/invoices/{item}.pdf")
        assert pdf.content.startswith(b"%PDF-")
        assert pdf.content.rstrip().endswith(b"%%EOF")
    assert (
        f'filename="invoice-{marker(ItemKind.INVOICE)}.pdf"' in pdf.headers["content-disposition"]
    )
    seen = [(c.type, c.payload) for c in changes(portal) if c.type.startswith("first_")]
    assert seen == [
        ("first_view", {"kind": "invoice", "item_id": item, "contact_id": CONTACT_ANN_A}),
        ("first_download", {"kind": "invoice", "item_id": item, "contact_id": CONTACT_ANN_A}),
    ]
    with portal.db.read() as s:
        view = s.scalar(select(ItemView).where(ItemView.item_id == item))
        assert view is not None and view.first_viewed_at and view.first_downloaded_at


def test_p2_document_download_and_first_download(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    item = SHOWN[ItemKind.DOCUMENT]
    response = ann.get(f"{A}/documents/{item}")
    assert response.content == scene.document_bytes
    assert response.headers["content-disposition"].startswith("attachment;")
    ann.get(f"{A}/documents/{item}")
    assert len(changes(portal, "first_download")) == 1
    # A shared document whose bytes have not arrived is listed, not offered for download.
    portal.item(ItemKind.DOCUMENT, 55, matter_id=MATTER_A, marker="NO-BYTES-YET")
    listing = ann.get(f"{A}/documents").text
    assert "NO-BYTES-YET" in listing and f"{A}/documents/55" not in listing
    assert ann.get(f"{A}/documents/55").status_code == 404


def test_p2_upload_goes_to_the_client_portal_folder_and_tells_the_firm(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    response = ann.upload(f"{A}/documents", "C:\\Users\\ann\\Scan: 1.pdf", b"%PDF-1.4 scan")
    assert response.status_code == 303
    assert response.headers["location"] == f"{A}/documents?uploaded=1"
    with portal.db.read() as s:
        upload = s.scalar(select(ClientUpload))
        assert upload is not None
        assert (upload.matter_id, upload.contact_id) == (MATTER_A, CONTACT_ANN_A)
        assert upload.name == "Scan: 1.pdf"  # the name, not the client's folders
        assert upload.size == 13 and upload.content == b"%PDF-1.4 scan"
        mails = list(s.scalars(select(MailMessage).where(MailMessage.kind == "upload")))
    (change,) = changes(portal, "upload")
    assert change.matter_id == MATTER_A
    assert change.payload["upload_id"] == upload.id
    assert change.payload["folder"] == "Client Portal Documents"
    assert change.payload["contact_id"] == CONTACT_ANN_A
    assert [m.to_addr for m in mails] == ["vera@harborvale.example"]
    page = ann.get(f"{A}/documents?uploaded=1").text
    assert "Your file was uploaded" in page and "Scan: 1.pdf" in page


def test_p2_notes_are_read_only(portal: Portal, scene: Scene, ann: Browser) -> None:
    text = ann.get(f"{A}/notes").text
    main = text[text.index('<main id="main">') :]
    assert "<form" not in main and "<textarea" not in main


# S4 -------------------------------------------------------------------------------------------


def test_s4_form_is_validated_and_submitted_once(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    url = f"{A}/forms/{SHOWN[ItemKind.FORM]}"
    page = ann.get(url).text
    for fragment in (
        'type="date"',
        'type="email"',
        'type="tel"',
        "<textarea",
        '<option value="Phone"',
        'aria-hidden="true">*</span>',
    ):
        assert fragment in page
    bad = ann.post(
        url,
        {
            "field-full_name": "",
            "field-dob": "31/12/1980",
            "field-contact_by": "Carrier pigeon",
            "field-email": "not-an-email",
            "field-phone": "call me",
        },
    )
    assert bad.status_code == 400
    for message in (
        "This field is required.",
        "Enter a date as YYYY-MM-DD",
        "Choose one of the options.",
        "Enter an email address",
        "Enter a phone number",
    ):
        assert message in bad.text
    assert 'id="field-full_name-error"' in bad.text
    assert 'value="31/12/1980"' in bad.text  # what was typed stays
    assert count(portal, FormSubmission) == 0

    good = ann.post(url, GOOD_ANSWERS)
    assert good.status_code == 303
    assert "Your form was submitted" in ann.get(good.headers["location"]).text
    again = ann.post(url, GOOD_ANSWERS)
    assert again.status_code == 409
    assert "You have already submitted this form" in again.text
    assert count(portal, FormSubmission) == 1
    (change,) = changes(portal, "form_submission")
    assert change.payload["form_id"] == SHOWN[ItemKind.FORM]
    assert change.payload["answers"]["full_name"] == "Ann Smith"
    assert change.payload["answers"]["story"] == "It began\non a Tuesday."
    assert change.payload["submitted_by"] == "ann@example.com"
    assert "already submitted" in ann.get(url).text
    assert "submitted</span>" in ann.get(f"{A}/").text  # marked in the drop-down


# S5 -------------------------------------------------------------------------------------------


def test_s5_reply_is_recorded_and_shown_in_the_thread(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    empty = ann.post(f"{A}/messages", {"body": "   "})
    assert empty.status_code == 400 and "Write a message" in empty.text
    sent = ann.post(f"{A}/messages", {"body": "Thank you,\r\nsee you <b>Monday</b>."})
    assert sent.status_code == 303
    with portal.db.read() as s:
        reply = s.scalar(select(ClientMessage))
    assert reply is not None and reply.body == "Thank you,\nsee you <b>Monday</b>."
    assert reply.author_name == "Ann Smith" and reply.contact_id == CONTACT_ANN_A
    (change,) = changes(portal, "reply")
    assert change.payload["message_id"] == reply.id
    assert change.payload["body"] == reply.body
    thread = ann.get(f"{A}/messages?sent=1").text
    assert "Your message was sent." in thread
    assert "see you &lt;b&gt;Monday&lt;/b&gt;." in thread
    # Time order: the firm's message (sent two hours ago) before the reply.
    assert thread.index(marker(ItemKind.MESSAGE)) < thread.index("Thank you,")


# S7 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "take_away", ["unshare", "disable", "remove", "matter off", "firm off", "category off"]
)
def test_s7_open_session_loses_access_on_the_next_request(
    portal: Portal, scene: Scene, ann: Browser, take_away: str
) -> None:
    url = f"{A}/invoices/{SHOWN[ItemKind.INVOICE]}"
    assert ann.get(url).status_code == 200
    if take_away == "unshare":
        portal.revoke(ItemKind.INVOICE, SHOWN[ItemKind.INVOICE])
    elif take_away in ("disable", "remove"):
        portal.set_contact(CONTACT_ANN_A, status=f"{take_away}d")
    elif take_away == "matter off":
        portal.set_matter(MATTER_A, enabled=False)
    elif take_away == "firm off":
        portal.firm(enabled=False)
    else:
        portal.set_matter(MATTER_A, permissions=frozenset(Category) - {Category.INVOICES})
    response = ann.get(url)
    assert marker(ItemKind.INVOICE) not in response.text
    if take_away in ("unshare", "category off"):
        # The matter is still hers: what was taken away is simply not there.
        assert response.status_code == 404
        assert marker(ItemKind.INVOICE) not in ann.get(f"{A}/invoices").text
        assert ann.get(f"{A}/invoices/{SHOWN[ItemKind.INVOICE]}.pdf").status_code == 404
        return
    # Nothing of the portal is open to her any more: said plainly, and the session is over.
    assert response.status_code == 403
    assert (
        "Your access to this portal has ended. Contact Harbor &amp; Vale LLP if you think "
        "this is a mistake." in response.text
    )
    with portal.db.read() as s:
        account = s.scalar(
            select(PortalContact.account_id).where(PortalContact.id == CONTACT_ANN_A)
        )
        assert not s.scalar(
            select(func.count())
            .select_from(ClientSession)
            .where(ClientSession.account_id == account)
        )
    after = ann.get(f"{A}/invoices")
    assert after.status_code == 303 and after.headers["location"].startswith("/login")


def test_s7_unpublished_item_is_never_shown_even_with_data(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    for kind, item_id in HIDDEN.items():
        path = {"invoice": "invoices", "form": "forms", "document": "documents"}.get(kind.value)
        if path:
            assert ann.get(f"{A}/{path}/{item_id}").status_code == 404


# .ics and PDF ---------------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_ics_of_the_shared_events_parses_and_escapes(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    long_description = "Bring: ID, the deed; and the will.\nAsk for Mr. Ødegård. " + "é" * 80
    portal.item(
        ItemKind.EVENT,
        24,
        matter_id=MATTER_A,
        data=event_data(
            "Hearing; room 4, floor 2", location="Court\\4", description=long_description
        ),
    )
    response = ann.get(f"{A}/calendar.ics")
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    raw = response.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded, in octets
    raw.decode("utf-8")  # never split inside a character
    lines = unfold(raw.decode())
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 2
    assert "VERSION:2.0" in lines
    assert "SUMMARY:Hearing\\; room 4\\, floor 2" in lines
    assert "LOCATION:Court\\\\4" in lines
    assert (
        "DESCRIPTION:Bring: ID\\, the deed\\; and the will.\\nAsk for Mr. Ødegård. " + "é" * 80
    ) in lines
    assert f"SUMMARY:{marker(ItemKind.EVENT)}" in lines
    assert not any(marker(ItemKind.EVENT, "hidden") in line for line in lines)
    assert any(re.fullmatch(r"DTSTART:\d{8}T\d{6}Z", line) for line in lines)
    assert any(line.startswith(f"UID:event-{SHOWN[ItemKind.EVENT]}@") for line in lines)


def _said(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def test_p2_an_all_day_event_is_shown_and_downloaded_as_its_days(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    first = (utcnow() + timedelta(days=10)).date()
    last = first + timedelta(days=2)
    for item_id, title, days in (
        (25, "Trial week", (first, last)),
        (26, "Filing day", (first, first)),
    ):
        data = event_data(title) | {
            "all_day": True,
            "first_day": iso(days[0]),
            "last_day": iso(days[1]),
        }
        portal.item(ItemKind.EVENT, item_id, matter_id=MATTER_A, data=data)

    page = ann.get(f"{A}/calendar").text
    assert f"All day, {_said(first)} – {_said(last)}" in page
    assert f"All day, {_said(first)} · Court 4" in page  # one day: no span
    assert f"All day, {_said(first)}" in ann.get(f"{A}/").text  # the dashboard

    calendar = icalendar.Calendar.from_ical(ann.get(f"{A}/calendar.ics").content)
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    for title, end in (("Trial week", last), ("Filing day", first)):
        event = events[title]
        assert event["DTSTART"].params["VALUE"] == event["DTEND"].params["VALUE"] == "DATE"
        start, stop = event["DTSTART"].dt, event["DTEND"].dt
        # Dates, not times: a calendar in any zone shows them on these very days.
        assert type(start) is date and type(stop) is date
        assert (start, stop) == (first, end + timedelta(days=1))  # DTEND exclusive
    # A timed event's copy (no all_day) is still at its instant.
    assert isinstance(events[marker(ItemKind.EVENT)]["DTSTART"].dt, datetime)


def test_ics_fold_and_escape_units() -> None:
    assert ics.escape_text("a\\b;c,d\r\ne\rf\x07") == "a\\\\b\\;c\\,d\\ne\\nf"
    line = "DESCRIPTION:" + "€" * 40
    folded = ics.fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
    assert ics.fold("SHORT:x") == "SHORT:x"


def test_invoice_pdf_handles_text_outside_latin1() -> None:
    invoice = InvoiceView(
        id=1,
        number="INV-7 “Łódź”",
        issued_on=date(2025, 1, 2),
        due_on=None,
        total_cents=123_456,
        paid_cents=100,
        memo="Thanks — 谢谢",
        lines=(InvoiceLine("Advice on Ωmega – €", "2", 61_728, 123_456),),
    )
    content = invoice_pdf(invoice, firm_name="Harbor & Vale", client_name="Zoë", matter="1 X")
    assert content.startswith(b"%PDF-")
    assert latin1("“Łódź” – €") == '"Lódz" - EUR '
    assert latin1("Zoë 谢") == "Zoë ?"
