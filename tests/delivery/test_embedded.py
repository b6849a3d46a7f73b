"""The embedded default: no portal_url, the portal service runs inside the app on loopback, on
its own SQLite under the data folder. The delivery worker (the app's thread) delivers a share
as soon as it is woken; and two processes on one data folder (the app open, and cron running
`portal-tui sync`) do not lock each other out."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from portal_tui.config import load_settings
from portal_tui.domain import ItemKind, ShareState, texts
from portal_tui.embedded import EmbeddedPortalError, PortalConnection, port_file
from portal_tui.repository.worker import DeliveryWorker, PassReport, run_pass

from .support import Firm, portal_tui, wait_for


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


def test_the_embedded_portal_keeps_its_address_across_starts(
    env: dict[str, str], firm: Firm
) -> None:
    """The links in every invitation already sent keep working after a restart."""
    settings = load_settings({}, env=env)
    first = PortalConnection(settings, firm.repo.document_content)
    url = first.url
    first.close()
    kept = port_file(settings)
    assert kept.read_text().strip() == url.rsplit(":", 1)[1]
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    again = PortalConnection(settings, firm.repo.document_content)
    try:
        assert again.url == url
        assert run_pass(firm.repo, again.client).problem is None
    finally:
        again.close()
    shown = portal_tui(env, "config").stdout
    line = next(line for line in shown.splitlines() if line.startswith("embedded_portal_port"))
    assert line.split(None, 2)[2] == f"{url.rsplit(':', 1)[1]}  (kept in {kept})"


def test_a_port_taken_by_another_program_is_said_with_its_number(
    env: dict[str, str], firm: Firm
) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        settings = load_settings({"embedded_portal_port": port}, env=env)
        with pytest.raises(EmbeddedPortalError) as refused:
            PortalConnection(settings, firm.repo.document_content)
    assert str(refused.value) == texts.EMBEDDED_PORT_TAKEN.format(port=port)


def test_a_process_using_anothers_portal_serves_it_once_that_one_stops(
    env: dict[str, str], firm: Firm
) -> None:
    """The app serves the data folder's portal and `portal-tui sync --watch` uses it; when
    the app quits, the relay serves it itself, at the same address, and delivers on."""
    settings = load_settings({}, env=env)
    repo = firm.repo
    app = PortalConnection(settings, repo.document_content)
    relay = PortalConnection(settings, repo.document_content)
    try:
        assert relay.url == app.url
        assert run_pass(repo, relay.client).problem is None
        app.close()
        note = repo.add_note(firm.matters[0], subject="Call", body="Agreed.")
        repo.share(ItemKind.NOTE, note)

        def delivered() -> bool:
            run_pass(repo, relay.client)
            return repo.share_state(ItemKind.NOTE, note).state is ShareState.SHARED

        wait_for(delivered, timeout=20, what="the relay serving the portal itself")
    finally:
        relay.close()
        app.close()
