"""A share the portal refuses for good (422), or one whose file has gone: failed, with the
reason on the share mark and the list row; fixing the cause and sharing again delivers it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from portal_tui.database import Database
from portal_tui.domain import ItemKind, ShareState
from portal_tui.repository.portal_client import PortalClient
from portal_tui.repository.worker import run_pass
from portal_tui.service.models import DocumentBlob

from .support import Firm, Service, activate_clients, deliver_all, read_mail, wait_for

TOO_LONG = "Re: " + "the estate " * 30  # over the portal's 300 characters for a subject


def test_a_422_is_failed_with_its_reason_and_delivered_once_the_item_is_fixed(
    service: Service, firm: Firm, portal: PortalClient
) -> None:
    repo = firm.repo
    activate_clients(firm, service, portal)
    matter = firm.matters[0]
    good = [repo.add_note(matter, subject=f"Fine {n}", body="ok") for n in range(2)]
    bad = repo.add_note(matter, subject=TOO_LONG, body="Too long a subject.")
    # The refused item is the batch's last: the others still get their email.
    batch = [(ItemKind.NOTE, n) for n in [*good, bad]]
    assert repo.share_many(batch, share=True) == (3, [])

    report = run_pass(repo, portal)
    assert (report.delivered, report.failed, report.problem) == (3, 1, None)  # 2 + the notice
    share = repo.share_state(ItemKind.NOTE, bad)
    assert share.state is ShareState.FAILED and share.error is not None
    assert share.error.startswith("The portal refused it (422): "), share.error
    assert "subject" in share.error and "300" in share.error, share.error
    assert repo.item_row(ItemKind.NOTE, bad).share.error == share.error
    assert [f[1] for f in report.failures] == [share.error]
    assert {repo.share_state(ItemKind.NOTE, n).state for n in good} == {ShareState.SHARED}
    assert repo.pending_deliveries() == 0  # failed for good: not retried by itself
    with service.api() as api:
        assert api.get(f"/items/note/{bad}").status_code == 404
    client = firm.clients[0]
    first = wait_for(
        lambda: [m for m in read_mail(service.mail_dir) if "new items" in m.subject],
        timeout=30,
        what="the batch's email",
    )
    assert [m.to for m in first] == [client.email]
    assert "has shared 2 new items" in " ".join(first[0].text.split())

    # Fixing the subject sends the note again (it is still meant to be shared).
    repo.edit_item(ItemKind.NOTE, bad, subject="Re: the estate")
    assert repo.share_state(ItemKind.NOTE, bad).state is ShareState.PENDING
    deliver_all(repo, portal)
    share = repo.share_state(ItemKind.NOTE, bad)
    assert (share.state, share.error) == (ShareState.SHARED, None)
    assert repo.item_row(ItemKind.NOTE, bad).share.error is None
    with service.api() as api:
        held = api.get(f"/items/note/{bad}").json()
        assert (held["published"], held["version"]) == (True, 2)


def test_a_linked_file_that_vanished_fails_the_share_until_it_is_back(
    service: Service, firm: Firm, portal: PortalClient, tmp_path: Path
) -> None:
    repo = firm.repo
    deliver_all(repo, portal)
    matter = firm.matters[0]
    linked = tmp_path / "matter-files"
    linked.mkdir()
    deed = linked / "deed.pdf"
    deed.write_bytes(b"%PDF-1.4 the deed")
    folder = repo.add_folder(matter, "Scans", linked_path=str(linked))
    document = repo.link_document(matter, folder, linked_name="deed.pdf")
    deed.unlink()

    repo.share(ItemKind.DOCUMENT, document)
    report = run_pass(repo, portal)
    assert (report.delivered, report.failed) == (0, 1)
    share = repo.share_state(ItemKind.DOCUMENT, document)
    assert share.state is ShareState.FAILED
    assert share.error == "The linked file 'deed.pdf' cannot be read: No such file or directory."
    assert repo.item_row(ItemKind.DOCUMENT, document).share.error == share.error
    with service.api() as api:
        # Nothing was sent: the portal holds no copy it would have no bytes for.
        assert api.get(f"/items/document/{document}").status_code == 404

    deed.write_bytes(b"%PDF-1.4 the deed")
    repo.share(ItemKind.DOCUMENT, document)
    deliver_all(repo, portal)
    share = repo.share_state(ItemKind.DOCUMENT, document)
    assert (share.state, share.error) == (ShareState.SHARED, None)
    with service.api() as api:
        held = api.get(f"/items/document/{document}").json()
        assert (held["published"], held["has_content"]) == (True, True)
    db = Database(service.database_url)
    try:
        with db.read() as s:
            blob = s.get(DocumentBlob, document)
            assert blob is not None
            assert blob.sha256 == hashlib.sha256(b"%PDF-1.4 the deed").hexdigest()
    finally:
        db.dispose()
