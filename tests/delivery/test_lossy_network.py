"""A loopback proxy that loses 30% of the answers after the portal has committed the request:
the relay retries with the same idempotency keys until every row is delivered, and nothing is
applied twice; and the changes feed read through it applies each client's action once."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from portal_tui.database import Database
from portal_tui.domain import ItemKind, ShareState
from portal_tui.repository.portal_client import PortalClient
from portal_tui.repository.worker import run_pass
from portal_tui.service.models import DocumentBlob
from portal_tui.sqltypes import utcnow

from .support import (
    Browser,
    Exchange,
    Firm,
    LossyProxy,
    Service,
    activate_clients,
    assert_one_email_each,
    assert_published_once,
    deliver_all,
    wait_for,
)

DROP_RATE = 0.3


def _items(firm: Firm, count: int) -> list[tuple[ItemKind, int]]:
    """`count` items of every kind but forms, spread over the firm's matters."""
    repo = firm.repo
    made: list[tuple[ItemKind, int]] = []
    for n in range(count):
        matter = firm.matters[n % len(firm.matters)]
        kind = [ItemKind.NOTE, ItemKind.TASK, ItemKind.EVENT, ItemKind.MESSAGE, ItemKind.INVOICE][
            n % 5
        ]
        if n % 40 == 7:
            folder = repo.client_portal_folder(matter)
            content = f"letter {n} ".encode() * 2000
            made.append(
                (
                    ItemKind.DOCUMENT,
                    repo.add_document(matter, folder, name=f"l{n}.txt", content=content),
                )
            )
        elif kind is ItemKind.NOTE:
            made.append((kind, repo.add_note(matter, subject=f"Note {n}", body="Call notes.")))
        elif kind is ItemKind.TASK:
            made.append((kind, repo.add_task(matter, title=f"Task {n}", due_on=date(2026, 12, 3))))
        elif kind is ItemKind.EVENT:
            starts = datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(hours=n)
            made.append((kind, repo.add_event(matter, title=f"Hearing {n}", starts_at=starts)))
        elif kind is ItemKind.MESSAGE:
            made.append((kind, repo.add_message(matter, body=f"Message {n}")))
        else:
            invoice = repo.add_invoice(
                matter,
                number=f"INV-{n}",
                issued_on=date(2026, 1, 5),
                lines=[("Advice", "2", 25000)],
            )
            made.append((kind, invoice))
    return made


def test_answers_lost_after_the_portal_committed_are_retried_without_duplicates(
    service: Service, firm: Firm, portal: PortalClient
) -> None:
    activate_clients(firm, service, portal)
    repo = firm.repo
    items = _items(firm, 200)
    assert repo.share_many(items, share=True) == (len(items), [])

    proxy = LossyProxy(service.port, drop_rate=DROP_RATE, seed=20261125)
    lossy = PortalClient(proxy.base, service.token, document_content=repo.document_content)
    try:

        def delivered() -> bool:
            # An hour ahead: each lost answer's backoff is not waited out (tested elsewhere).
            repo.deliver_pending(lossy, now=utcnow() + timedelta(hours=1))
            return repo.pending_deliveries() == 0

        wait_for(delivered, timeout=90, what="delivery through the lossy proxy", every=0)
    finally:
        lossy.close()
        proxy.close()

    assert repo.count_shared() == {ShareState.SHARED: len(items)}
    assert repo.delivery_problem() is None
    lost = [x for x in proxy.exchanges if x.dropped]
    assert len(lost) >= 0.2 * len(proxy.exchanges), (len(lost), len(proxy.exchanges))

    # Every answer lost after the portal stored it came back on the retry as a replay of the
    # very same answer: the request was applied once.
    replays = [x for x in proxy.exchanges if not x.dropped and x.replayed]
    for x in lost:
        if x.status == 200:
            again = [r for r in replays if r.key == x.key]
            assert again, (x.method, x.path)
            assert {(r.status, r.answer) for r in again} == {(200, x.answer)}, x.path
    assert {x.status for x in proxy.exchanges if not x.dropped} == {200}

    assert_published_once(service, items)
    assert_one_email_each(service, firm)


def test_what_clients_did_comes_back_once_through_a_lossy_network(
    service: Service, firm: Firm, portal: PortalClient
) -> None:
    activate_clients(firm, service, portal)
    repo = firm.repo
    client = firm.clients[0]
    matter = client.matters[0]
    browser = Browser(service.base)
    try:
        browser.log_in(client.email)
        for n in range(4):
            done = browser.submit(
                f"/m/{matter}/documents",
                {},
                files={"file": (f"scan-{n}.pdf", f"%PDF-1.4 scan {n}".encode(), "application/pdf")},
            )
            assert done.status_code == 200, done.text[:300]
            sent = browser.submit(f"/m/{matter}/messages", {"body": f"Reply {n}"})
            assert sent.status_code == 200, sent.text[:300]
    finally:
        browser.close()

    proxy = LossyProxy(service.port, drop_rate=DROP_RATE, seed=7)
    lossy = PortalClient(proxy.base, service.token, document_content=repo.document_content)
    try:
        # A page of the feed, or an upload's bytes, lost: the pass says so and stores no
        # cursor past it; the next pass reads the same changes again.
        def synced() -> bool:
            return run_pass(repo, lossy).problem is None

        wait_for(synced, timeout=60, what="a sync pass through the lossy proxy", every=0)
    finally:
        lossy.close()
        proxy.close()
    assert any(x.dropped for x in proxy.exchanges)

    uploads = [d for d in repo.list_documents(matter_id=matter).rows if d.from_client]
    assert sorted(d.name for d in uploads) == [f"scan-{n}.pdf" for n in range(4)]
    for d in uploads:
        assert repo.document_content(d.id) == f"%PDF-1.4 {d.name[:-4].replace('-', ' ')}".encode()
    replies = [m.body for m in repo.list_messages(matter_id=matter).rows if m.from_client]
    assert sorted(replies) == [f"Reply {n}" for n in range(4)]


def test_a_linked_file_changed_between_two_tries_is_sent_as_it_now_is(
    service: Service, firm: Firm, portal: PortalClient, tmp_path: Path
) -> None:
    repo = firm.repo
    deliver_all(repo, portal)
    linked = tmp_path / "scans"
    linked.mkdir()
    deed = linked / "deed.pdf"
    deed.write_bytes(b"%PDF-1.4 draft deed")
    matter = firm.matters[0]
    folder = repo.add_folder(matter, "Scans", linked_path=str(linked))
    document = repo.link_document(matter, folder, linked_name="deed.pdf")
    repo.share(ItemKind.DOCUMENT, document)

    lost: list[Exchange] = []

    def lose_first_upload(x: Exchange) -> None:
        if x.path.startswith(f"/api/v1/items/document/{document}/content") and not lost:
            lost.append(x)
            x.dropped = True

    proxy = LossyProxy(service.port, on_forwarded=lose_first_upload)
    lossy = PortalClient(proxy.base, service.token, document_content=repo.document_content)
    try:
        report = repo.deliver_pending(lossy)
        assert (report.delivered, report.retried) == (0, 1) and lost
        # The file is saved again on disk before the retry.
        deed.write_bytes(b"%PDF-1.4 signed deed")
        report = repo.deliver_pending(lossy, now=utcnow() + timedelta(hours=1))
        assert (report.delivered, report.failed) == (1, 0), report.failures
    finally:
        lossy.close()
        proxy.close()
    share = repo.share_state(ItemKind.DOCUMENT, document)
    assert (share.state, share.error) == (ShareState.SHARED, None)
    db = Database(service.database_url)
    try:
        with db.read() as s:
            blob = s.get(DocumentBlob, document)
            assert blob is not None
            assert blob.sha256 == hashlib.sha256(b"%PDF-1.4 signed deed").hexdigest()
    finally:
        db.dispose()
