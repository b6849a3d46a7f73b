"""SIGKILL of the portal service in the middle of a request: restarted on the same database and
port, the relay's passes converge, with nothing lost and nothing doubled."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal_tui.database import Database
from portal_tui.domain import ItemKind, ShareState
from portal_tui.repository.portal_client import PortalClient
from portal_tui.repository.worker import PassReport, run_pass
from portal_tui.service.models import DocumentBlob, PortalItem

from .support import (
    Exchange,
    Firm,
    LossyProxy,
    Service,
    activate_clients,
    add_notes,
    assert_one_email_each,
    assert_published_once,
    deliver_all,
    share_all,
    wait_for,
)

# A request the service had claimed the key of when it died stays "in progress" until the
# service's ABANDONED_AFTER (two minutes) has passed; the service under test gets two seconds,
# so that a kill landing there does not make the test wait two minutes.
SHORT_ABANDON = (
    "from datetime import timedelta\n"
    "from portal_tui.service.api import idempotency\n"
    "idempotency.ABANDONED_AFTER = timedelta(seconds=2)"
)
BIG = 12 * 1024 * 1024


@pytest.fixture
def fragile(env: dict[str, str], tmp_path: Path) -> Iterator[Service]:
    svc = Service(env, tmp_path, prelude=SHORT_ABANDON)
    svc.start()
    try:
        yield svc
    finally:
        svc.kill()


def _committed(service: Service, kind: str, item_id: int) -> bool:
    db = Database(service.database_url)
    try:
        with db.read() as s:
            item = s.get(PortalItem, (kind, item_id))
            return item is not None and item.published
    finally:
        db.dispose()


@pytest.mark.parametrize("when", ["receiving a large document", "it has committed a share"])
def test_service_killed_mid_request_then_restarted_converges(
    fragile: Service, firm: Firm, when: str
) -> None:
    service = fragile
    direct = PortalClient(service.base, service.token, document_content=firm.repo.document_content)
    activate_clients(firm, service, direct)
    big = os.urandom(BIG)
    folder = firm.repo.client_portal_folder(firm.matters[0])
    document = firm.repo.add_document(firm.matters[0], folder, name="scan.pdf", content=big)
    items = [*add_notes(firm, 60), (ItemKind.DOCUMENT, document), *add_notes(firm, 60)]
    share_all(firm, items)

    killed = threading.Event()
    upload = f"/api/v1/items/document/{document}/content"
    note = items[30][1]
    # The note goes alone, or in a batch with the notes shared with it.
    carrying = {f"/api/v1/items/note/{note}", "/api/v1/items/batch"}
    killed_keys: list[str | None] = []

    def kill_now(x: Exchange) -> None:
        # Called once the request has been handed to the service whole, before its answer.
        if killed.is_set():
            return
        if when == "receiving a large document" and x.path.startswith(upload):
            service.kill()
        elif x.path in carrying:
            # Done, perhaps answered too: the answer is lost with the service all the same.
            wait_for(lambda: _committed(service, "note", note), timeout=10, what="the commit")
            service.kill()
            x.dropped = True
            killed_keys.append(x.key)
        else:
            return
        killed.set()

    proxy = LossyProxy(service.port, on_forwarded=kill_now)
    relay = PortalClient(proxy.base, service.token, document_content=firm.repo.document_content)
    try:
        reports: list[PassReport] = []
        pass_ = threading.Thread(target=lambda: reports.append(run_pass(firm.repo, relay)))
        pass_.start()
        assert killed.wait(60), "the service was never killed"
        pass_.join(60)
        (report,) = reports
        # The pass ended on its own, said why, and kept what it could not deliver.
        assert report.problem is not None, report
        assert firm.repo.delivery_problem() == report.problem
        assert firm.repo.pending_deliveries() > 0

        service.start()  # the same database, the same port
        deliver_all(firm.repo, relay, timeout=60)
    finally:
        relay.close()
        proxy.close()
        direct.close()

    assert firm.repo.delivery_problem() is None
    assert firm.repo.count_shared() == {ShareState.SHARED: len(items)}
    assert_published_once(service, items)
    if when == "it has committed a share":
        # The retry of the share the service had done was answered as done, not done again.
        (_, *retries) = [x for x in proxy.exchanges if x.key in killed_keys]
        answers = [x for x in retries if x.status == 200]
        assert answers, retries
        assert all(x.replayed or b'"applied":false' in x.answer for x in answers), answers
    db = Database(service.database_url)
    try:
        with db.read() as s:
            blob = s.get(DocumentBlob, document)
            assert blob is not None and blob.sha256 == hashlib.sha256(big).hexdigest()
    finally:
        db.dispose()
    assert_one_email_each(service, firm)
