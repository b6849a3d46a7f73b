"""P1, P2 and S4 in a real browser with JavaScript off: Debian's chromium driven by
Playwright against a real uvicorn on loopback. The client opens the invitation link, sets a
password, lands on the dashboard, uploads a document and submits a form from the drop-down
at the top right."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select

from portal_tui.database import Database
from portal_tui.domain.kinds import ItemKind
from portal_tui.service.app import create_app
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import Change, ClientUpload, FormSubmission, PortalContact
from portal_tui.service.schema import ensure_service_schema

from .conftest import CONTACT_CAT_A, INVITE_CAT, MATTER_A, SHOWN, Rows, build_scene, marker

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NEW_PASSWORD = "a long and private passphrase"


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing under CI: .ci/run must install Debian's chromium")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI installs it")


@contextmanager
def running_portal(tmp_path: Path, **options: Any) -> Iterator[tuple[str, Database]]:
    """uvicorn serving the portal on a loopback port, its database filled with the scene;
    `options` are ServiceConfig's (sign_in_links=True, say)."""
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    db = Database(url)
    ensure_service_schema(db)
    build_scene(Rows(db))

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Bound here and handed to uvicorn, so no other process can take the port in between.
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    config = ServiceConfig(
        database_url=url,
        data_dir=tmp_path / "data",
        base_url=base,
        send_mail=False,
        prune=False,
        **options,
    )
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        thread.join(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield base, db
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        db.dispose()


@pytest.fixture
def live_portal(tmp_path: Path) -> Iterator[tuple[str, Database]]:
    with running_portal(tmp_path) as live:
        yield live


def test_p1_p2_s4_client_in_a_real_browser_without_javascript(
    live_portal: tuple[str, Database], tmp_path: Path
) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    base, db = live_portal
    form_id = SHOWN[ItemKind.FORM]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            page.set_default_timeout(15_000)

            # P1: the invitation link, a password, and straight into the portal.
            page.goto(f"{base}/invite/{INVITE_CAT}")
            expect(page.get_by_role("heading", name="Welcome, Cat Smith")).to_be_visible()
            page.get_by_label("Password", exact=False).first.fill(NEW_PASSWORD)
            page.get_by_label("Password again").fill(NEW_PASSWORD)
            page.get_by_role("button", name="Set password and open my portal").click()
            page.wait_for_url(f"{base}/m/{MATTER_A}/")
            expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
            expect(page.get_by_text(marker(ItemKind.INVOICE))).to_be_visible()

            # P2: Documents, and an upload into the matter's portal folder.
            page.get_by_role("navigation", name="Matter").get_by_role(
                "link", name="Documents"
            ).click()
            expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
            upload = tmp_path / "passport scan.pdf"
            upload.write_bytes(b"%PDF-1.4 passport scan")
            page.get_by_label("File").set_input_files(str(upload))
            page.get_by_role("button", name="Upload").click()
            expect(page.get_by_text("Your file was uploaded.")).to_be_visible()
            expect(page.get_by_text("passport scan.pdf")).to_be_visible()

            # S4: the Forms drop-down at the top right (a <details>, no script), filled once.
            page.locator("details.forms-menu > summary").click()
            page.get_by_role("link", name=marker(ItemKind.FORM)).click()
            page.wait_for_url(f"{base}/m/{MATTER_A}/forms/{form_id}")
            page.get_by_label("Full name").fill("Cat Smith")
            page.get_by_label("What happened").fill("A long story,\nin two lines.")
            page.get_by_label("Date of birth").fill("1990-05-17")
            page.get_by_label("Contact me by").select_option("Phone")
            page.get_by_label("Phone").fill("+44 20 7946 0000")
            page.get_by_role("button", name="Submit").click()
            expect(page.get_by_text("Your form was submitted")).to_be_visible()
            context.close()
        finally:
            browser.close()

    with db.read() as s:
        contact = s.get(PortalContact, CONTACT_CAT_A)
        assert contact is not None and contact.status == "active"
        uploads = list(s.scalars(select(ClientUpload)))
        assert [(u.name, u.content) for u in uploads] == [
            ("passport scan.pdf", b"%PDF-1.4 passport scan")
        ]
        submission = s.scalar(select(FormSubmission))
        assert submission is not None and submission.form_id == form_id
        assert submission.answers["contact_by"] == "Phone"
        assert submission.answers["story"] == "A long story,\nin two lines."
        types = set(s.scalars(select(Change.type)))
        assert {"activation", "login", "upload", "form_submission"} <= types
        assert s.scalar(select(func.count()).select_from(FormSubmission)) == 1
