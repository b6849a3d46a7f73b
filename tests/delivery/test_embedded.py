"""The embedded default: no portal_url, the portal service runs inside the app on loopback, on
its own SQLite under the data folder. The delivery worker (the app's thread) delivers a share
as soon as it is woken; and two processes on one data folder (the app open, and cron running
`portal-tui sync`) do not lock each other out."""

from __future__ import annotations

from pathlib import Path

from portal_tui.config import load_settings
from portal_tui.domain import ItemKind, ShareState
from portal_tui.embedded import PortalConnection
from portal_tui.repository.worker import DeliveryWorker, PassReport, run_pass

from .support import Firm, wait_for


def test_the_worker_delivers_to_the_embedded_portal_when_woken(
    env: dict[str, str], firm: Firm
) -> None:
    settings = load_settings({}, env=env)
    repo = firm.repo
    connection = PortalConnection(settings, repo.document_content)
    reports: list[PassReport] = []
    # A long poll: only the wake-up can make the share go out within the deadline below.
    worker = DeliveryWorker(repo, connection.client, on_pass=reports.append, poll_seconds=60)
    try:
        assert connection.embedded
        assert connection.url.startswith("http://127.0.0.1:")
        worker.start()
        wait_for(lambda: reports, timeout=20, what="the first pass")
        assert repo.pending_deliveries() == 0 and reports[0].problem is None

        note = repo.add_note(firm.matters[0], subject="Call", body="Agreed.")
        repo.share(ItemKind.NOTE, note)
        worker.wake()
        wait_for(
            lambda: repo.share_state(ItemKind.NOTE, note).state is ShareState.SHARED,
            timeout=10,
            what="the share delivered",
        )
    finally:
        worker.stop()
        connection.close()
    assert (Path(env["PORTAL_TUI_DATA_DIR"]) / "portal.db").is_file()


def test_a_second_process_on_the_same_data_folder_leaves_the_first_one_working(
    env: dict[str, str], firm: Firm
) -> None:
    settings = load_settings({}, env=env)
    repo = firm.repo
    app = PortalConnection(settings, repo.document_content)
    try:
        assert run_pass(repo, app.client).problem is None
        # Cron's `portal-tui sync` starts an embedded portal of its own meanwhile, and stops.
        cron = PortalConnection(settings, repo.document_content)
        try:
            assert run_pass(repo, cron.client).problem is None
        finally:
            cron.close()

        note = repo.add_note(firm.matters[0], subject="Call", body="Agreed.")
        repo.share(ItemKind.NOTE, note)
        report = run_pass(repo, app.client)
        assert report.problem is None, report.problem
        assert repo.share_state(ItemKind.NOTE, note).state is ShareState.SHARED
    finally:
        app.close()
