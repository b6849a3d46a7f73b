"""End to end with `portal-tui serve`: staff share every kind of item in the app, the client
sees each on the portal's pages, unsharing takes it away on the next request; the client's
upload, form submission and reply come back into the app, and so does the first view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from portal_tui.domain import FormRule, ItemKind, ShareState
from portal_tui.repository import CLIENT_PORTAL_FOLDER
from portal_tui.repository.portal_client import PortalClient
from portal_tui.repository.worker import run_pass
from portal_tui.sqltypes import utcnow

from .support import Browser, Firm, Service, activate_clients, deliver_all

UPLOAD = b"%PDF-1.4 passport scan of the client"
LETTER = b"%PDF-1.4 engagement letter"
FIELDS = [
    {"key": "phone", "label": "Phone", "type": "phone", "target": "client.phone"},
    {"key": "dob", "label": "Date of birth", "type": "date", "target": "client.date_of_birth"},
    {"key": "about", "label": "What happened", "type": "multiline", "target": "matter.description"},
    {"key": "extra", "label": "Anything else", "type": "text"},
]


@pytest.fixture
def browser(service: Service) -> Iterator[Browser]:
    opened = Browser(service.base)
    try:
        yield opened
    finally:
        opened.close()


def test_shared_items_reach_the_client_and_what_the_client_does_comes_back(
    service: Service, firm: Firm, portal: PortalClient, browser: Browser
) -> None:
    repo = firm.repo
    activate_clients(firm, service, portal)
    client = firm.clients[0]
    m = client.matters[0]
    folder = repo.client_portal_folder(m)
    items = {
        ItemKind.INVOICE: repo.add_invoice(
            m, number="INV-2026-77", issued_on=date(2026, 1, 5), lines=[("Advice", "2", 25000)]
        ),
        ItemKind.EVENT: repo.add_event(
            m, title="Probate hearing", starts_at=utcnow() + timedelta(days=10)
        ),
        ItemKind.TASK: repo.add_task(m, title="Sign the inventory", due_on=date(2030, 1, 1)),
        ItemKind.NOTE: repo.add_note(m, subject="Call with the executor", body="Agreed."),
        ItemKind.DOCUMENT: repo.add_document(m, folder, name="engagement.pdf", content=LETTER),
        ItemKind.MESSAGE: repo.add_message(m, subject="Next steps", body="Please sign soon."),
        ItemKind.FORM: repo.add_form(
            "Estate intake", fields=FIELDS, rule=FormRule.ASSOCIATE, matter_id=m
        ),
    }
    for kind, item_id in items.items():
        repo.share(kind, item_id, confirmed=True)  # the Draft invoice is finalised (S1)
    deliver_all(repo, portal)
    assert repo.count_shared() == {ShareState.SHARED: len(items)}

    browser.log_in(client.email)
    pages = {
        ItemKind.INVOICE: (f"/m/{m}/invoices/{items[ItemKind.INVOICE]}", "INV-2026-77"),
        ItemKind.EVENT: (f"/m/{m}/calendar", "Probate hearing"),
        ItemKind.TASK: (f"/m/{m}/tasks", "Sign the inventory"),
        ItemKind.NOTE: (f"/m/{m}/notes", "Call with the executor"),
        ItemKind.DOCUMENT: (f"/m/{m}/documents", "engagement.pdf"),
        ItemKind.MESSAGE: (f"/m/{m}/messages", "Please sign soon."),
        ItemKind.FORM: (f"/m/{m}/forms/{items[ItemKind.FORM]}", "Estate intake"),
    }
    for kind, (page, text) in pages.items():
        shown = browser.get(page)
        assert shown.status_code == 200 and text in shown.text, (kind, shown.status_code)
    download = browser.get(f"/m/{m}/documents/{items[ItemKind.DOCUMENT]}")
    assert (download.status_code, download.content) == (200, LETTER)

    # The client uploads a file, fills in the form and replies to the message.
    uploaded = browser.submit(
        f"/m/{m}/documents", {}, files={"file": ("passport.pdf", UPLOAD, "application/pdf")}
    )
    assert uploaded.status_code == 200 and "passport.pdf" in uploaded.text
    answers = {
        "field-phone": "+1 555 0100",
        "field-dob": "1961-04-02",
        "field-about": "My father died in March.",
        "field-extra": "Call after 5pm",
    }
    sent = browser.submit(pages[ItemKind.FORM][0], answers)
    assert sent.status_code == 200 and "Your form was submitted" in sent.text
    replied = browser.submit(f"/m/{m}/messages", {"body": "Signed and posted today."})
    assert replied.status_code == 200 and "Your message was sent." in replied.text

    report = run_pass(repo, portal)
    assert report.problem is None and report.synced >= 3, report

    # The upload: a document in the matter's "Client Portal Documents", with its bytes.
    docs = repo.list_documents(matter_id=m).rows
    (mine,) = [d for d in docs if d.from_client]
    assert (mine.name, mine.folder_name) == ("passport.pdf", CLIENT_PORTAL_FOLDER)
    assert repo.document_content(mine.id) == UPLOAD
    # The form: processed by its rule, the client's and matter's fields filled.
    (submission,) = repo.form_submissions(items[ItemKind.FORM])
    assert submission.processed_at is not None and submission.matter_id == m
    assert submission.answers["extra"] == "Call after 5pm"
    assert repo.client(client.id).phone == "+1 555 0100"
    assert repo.matter(m).description == "My father died in March."
    changed = {c["field"]: c["after"] for c in submission.changes}
    assert changed == {
        "client.phone": "+1 555 0100",
        "client.date_of_birth": "1961-04-02",
        "matter.description": "My father died in March.",
    }
    # The reply, in the matter's messages.
    replies = [r for r in repo.list_messages(matter_id=m).rows if r.from_client]
    assert [(r.body, r.author_name) for r in replies] == [("Signed and posted today.", client.name)]
    # First views and the download, on the share marks.
    for kind in (ItemKind.NOTE, ItemKind.TASK, ItemKind.MESSAGE, ItemKind.FORM):
        record = repo.share_record(kind, items[kind])
        assert record is not None and record.first_viewed_at is not None, kind
    record = repo.share_record(ItemKind.DOCUMENT, items[ItemKind.DOCUMENT])
    assert record is not None and record.first_downloaded_at is not None
    # A second pass applies nothing twice.
    again = run_pass(repo, portal)
    assert (again.synced, again.problem) == (0, None)
    assert len([d for d in repo.list_documents(matter_id=m).rows if d.from_client]) == 1

    # Unshared: gone on the client's next request.
    assert repo.share_many(list(items.items()), share=False) == (len(items), [])
    deliver_all(repo, portal)
    assert repo.count_shared() == {ShareState.NOT_SHARED: len(items)}
    for kind, (page, text) in pages.items():
        shown = browser.get(page)
        assert text not in shown.text, (kind, shown.status_code)
    gone = browser.get(f"/m/{m}/documents/{items[ItemKind.DOCUMENT]}")
    assert gone.status_code == 404
