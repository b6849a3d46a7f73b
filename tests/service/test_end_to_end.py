"""The portal service end to end, as it runs for real: `portal-tui serve --port 0` in its own
process (uvicorn on loopback, the mail sender inside it, email written as .eml files into the
data folder), the firm talking to it over HTTP with a staff token, and a client using the
HTML pages the way a browser with JavaScript off does (GET the page, take the form's fields,
POST them), with cookies kept by the client.

P1: the invitation email's link, a password, log out, log in. P3: the published note and
invoice are shown. S7: an unshare, and then disabling the contact, take effect on the very
next request of the open session; a late retry of the old publish (same Idempotency-Key, or
a new one) never brings the note back.
"""

from __future__ import annotations

import html
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from .api.conftest import contact_body, firm_body, matter_body

T = TypeVar("T")

DEADLINE = 20.0  # seconds: for the service to start, and for any one email to be written
MATTER = 7
CONTACT = 3
EMAIL = "jorg@example.com"
PASSWORD = "a long and private passphrase"
NOTE_ID, INVOICE_ID = 41, 11
NOTE_SUBJECT = "Notes from our meeting of 3 March"
INVOICE_NUMBER = "INV-2025-0042"


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = DEADLINE) -> T:
    """Poll `probe` until it gives something, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# The service, as its own process --------------------------------------------------------------


@dataclass
class Service:
    proc: subprocess.Popen[str]
    base: str
    token: str
    mail_dir: Path
    stderr: Path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_args(request: pytest.FixtureRequest) -> list[str]:
    """The default (SQLite in the data folder), and PostgreSQL by URL."""
    if request.param == "sqlite":
        return []
    return ["--database", str(request.getfixturevalue("pg_url"))]


@pytest.fixture
def service(tmp_path: Path, database_args: list[str]) -> Iterator[Service]:
    data = tmp_path / "data"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))},
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "PORTAL_TUI_CONFIG": str(tmp_path / "config.toml"),
        "PORTAL_TUI_DATA_DIR": str(data),
        "PYTHONIOENCODING": "utf-8",
    }
    made = subprocess.run(
        [sys.executable, "-m", "portal_tui", "token", "create", "--staff", "alice", *database_args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    stderr = tmp_path / "serve.stderr"
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal_tui", "serve", "--port", "0", *database_args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()

    def read(out: IO[str]) -> None:
        for line in out:
            lines.put(line)

    assert proc.stdout is not None
    threading.Thread(target=read, args=(proc.stdout,), daemon=True).start()
    try:
        try:
            first = lines.get(timeout=DEADLINE)
        except queue.Empty:
            pytest.fail(f"`portal-tui serve` said nothing: {stderr.read_text()}")
        found = re.match(r"Portal service listening on (http://127\.0\.0\.1:\d+) ", first)
        assert found, first
        base = found.group(1)
        assert httpx.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
        yield Service(proc, base, made.stdout.strip(), data / "portal" / "mail", stderr)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        assert proc.returncode == 0, stderr.read_text()
        assert "Traceback" not in stderr.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# The firm: the staff API with a token ---------------------------------------------------------


class Firm:
    def __init__(self, service: Service) -> None:
        self.http = httpx.Client(
            base_url=f"{service.base}/api/v1",
            headers={"Authorization": f"Bearer {service.token}"},
            timeout=10,
        )

    def __enter__(self) -> Firm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def send(self, method: str, path: str, *, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        response = self.http.request(method, path, headers=headers, **kw)
        assert response.status_code == 200, f"{method} {path}: {response.text}"
        return response


def publish_note(version: int) -> dict[str, Any]:
    return {
        "matter_id": MATTER,
        "version": version,
        "batch": "e2e-1",
        "data": {
            "subject": NOTE_SUBJECT,
            "body": "We agreed to file the inventory by the end of the month.",
            "created_at": "2025-03-03T10:00:00+00:00",
        },
    }


def publish_invoice(version: int) -> dict[str, Any]:
    return {
        "matter_id": MATTER,
        "version": version,
        "batch": "e2e-1",
        "data": {
            "number": INVOICE_NUMBER,
            "issued_on": "2025-03-01",
            "due_on": "2099-03-31",
            "status": "final",
            "total_cents": 150_000,
            "paid_cents": 0,
            "lines": [
                {
                    "description": "Drafting the inventory",
                    "quantity": "1.5",
                    "rate_cents": 100_000,
                    "amount_cents": 150_000,
                }
            ],
        },
    }


# The client: a browser without JavaScript -------------------------------------------------------


FORM = re.compile(r"<form\b[^>]*\baction=\"([^\"]*)\"[^>]*>(.*?)</form>", re.S)
HIDDEN = re.compile(r"<input\b[^>]*\btype=\"hidden\"[^>]*>")
ATTR = re.compile(r"\b(name|value)=\"([^\"]*)\"")


def submit(
    client: httpx.Client, page: httpx.Response, action: str, **fields: str
) -> httpx.Response:
    """Fill out the page's form that posts to `action` (its hidden fields, the CSRF token
    among them, as the page gave them) and send it, following the redirect as a browser does."""
    assert page.status_code == 200, page.text
    for found in FORM.finditer(page.text):
        if html.unescape(found.group(1)) == action:
            data = {}
            for tag in HIDDEN.findall(found.group(2)):
                attrs = dict(ATTR.findall(tag))
                data[attrs["name"]] = html.unescape(attrs.get("value", ""))
            assert data.get("csrf"), f"the form posting to {action} has no CSRF token"
            return client.post(urljoin(str(page.url), action), data={**data, **fields})
    raise AssertionError(f"no form posting to {action} on {page.url}")


def invitation_link(mail_dir: Path, base: str) -> str | None:
    """The link of the invitation emailed to the contact, once the sender has written it."""
    for path in sorted(mail_dir.glob("*.eml")) if mail_dir.is_dir() else ():
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        if msg["To"] != EMAIL or "invitation" not in str(msg["Subject"]):
            continue
        body = msg.get_body(("plain",))
        assert body is not None
        found = re.search(r"https?://\S+/invite/[A-Za-z0-9_-]+", body.get_content())
        assert found, body.get_content()
        assert found.group(0).startswith(f"{base}/invite/"), found.group(0)
        return found.group(0)
    return None


def test_p1_p3_s7_end_to_end_over_a_real_server(service: Service) -> None:
    with Firm(service) as firm:
        run_the_story(service, firm)


def run_the_story(service: Service, firm: Firm) -> None:
    matter_path = f"/m/{MATTER}/"
    every_category = firm_body()["permissions"]

    # The firm: its settings, a matter with the portal on, and the client invited (C1, M1).
    firm.send("PUT", "/firm", json=firm_body(version=1))
    firm.send(
        "PUT",
        f"/matters/{MATTER}",
        json=matter_body(MATTER, version=1, enabled=True, permissions=every_category),
    )
    invited = firm.send("PUT", f"/contacts/{CONTACT}", json=contact_body(version=1)).json()
    assert invited["status"] == "invited"

    # The invitation, as the client gets it: an email, written by the service's own sender.
    link = wait_for("the invitation email", lambda: invitation_link(service.mail_dir, service.base))

    with httpx.Client(base_url=service.base, follow_redirects=True, timeout=10) as client:
        # P1: the link, a password; the client lands on the matter's dashboard.
        invite_page = client.get(link)
        assert "Set a password" in invite_page.text
        landed = submit(
            client,
            invite_page,
            urlsplit(link).path,
            password=PASSWORD,
            confirm=PASSWORD,
        )
        assert landed.status_code == 200 and landed.url.path == matter_path, landed.text
        assert landed.history and landed.history[0].status_code == 303

        # Out, and in again with the new password.
        out = submit(client, landed, "/logout")
        assert out.url.path == "/login" and "You have logged out" in out.text
        assert client.get(matter_path).url.path == "/login"
        home = submit(client, client.get("/login"), "/login", email=EMAIL, password=PASSWORD)
        assert home.status_code == 200 and home.url.path == matter_path, home.text

        # The firm shares a note and an invoice, in one batch (one email for both, F5).
        firm.send("PUT", f"/items/note/{NOTE_ID}", json=publish_note(1), key="share-note-v1")
        firm.send("PUT", f"/items/invoice/{INVOICE_ID}", json=publish_invoice(1))
        firm.send("POST", "/batches/e2e-1/notify")

        # P3: the client sees both, in the same session.
        notes_url = f"{matter_path}notes"
        invoice_url = f"{matter_path}invoices/{INVOICE_ID}"
        assert NOTE_SUBJECT in client.get(notes_url).text
        assert INVOICE_NUMBER in client.get(f"{matter_path}invoices").text
        assert INVOICE_NUMBER in client.get(matter_path).text  # pending, on the dashboard
        invoice = client.get(invoice_url)
        assert invoice.status_code == 200 and INVOICE_NUMBER in invoice.text
        pdf = client.get(f"{invoice_url}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

        # S7: the unshare (a newer version) shows on the very next request.
        revoked = firm.send("DELETE", f"/items/note/{NOTE_ID}", params={"version": 2}).json()
        assert revoked["applied"] is True and revoked["published"] is False
        notes = client.get(notes_url)
        assert notes.status_code == 200 and NOTE_SUBJECT not in notes.text
        assert "No notes have been shared with you" in notes.text

        # A late retry of the old share never undoes the newer unshare: neither a replay of
        # the first request (same key) nor the same publish under a new key.
        replay = firm.send(
            "PUT", f"/items/note/{NOTE_ID}", json=publish_note(1), key="share-note-v1"
        )
        assert replay.headers.get("Idempotent-Replayed") == "true"
        stale = firm.send("PUT", f"/items/note/{NOTE_ID}", json=publish_note(1)).json()
        assert stale["applied"] is False and stale["version"] == 2 and not stale["published"]
        assert NOTE_SUBJECT not in client.get(notes_url).text
        assert NOTE_SUBJECT not in client.get(matter_path).text

        # The invoice too: its page and its PDF are gone at once (404, not 403).
        firm.send("DELETE", f"/items/invoice/{INVOICE_ID}", params={"version": 2})
        for url in (invoice_url, f"{invoice_url}.pdf"):
            gone = client.get(url)
            assert gone.status_code == 404 and INVOICE_NUMBER not in gone.text, url
        assert INVOICE_NUMBER not in client.get(f"{matter_path}invoices").text

        # S7: disabling the contact ends the client's access to the matter on the next request.
        disabled = firm.send(
            "PUT",
            f"/contacts/{CONTACT}",
            json=contact_body(action="disable", status="disabled", version=2),
        ).json()
        assert disabled["status"] == "disabled"
        # Her only matter: the next request says her access has ended, and ends the session.
        ended = client.get(matter_path)
        assert ended.status_code == 403 and "Estate of Smith" not in ended.text
        assert "Your access to this portal has ended." in ended.text
        for url in (notes_url, f"{matter_path}invoices", "/"):
            refused = client.get(url)
            assert refused.url.path == "/login", url
            assert "Estate of Smith" not in refused.text, url
