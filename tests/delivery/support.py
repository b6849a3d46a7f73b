"""Real things for the delivery tests: `portal-tui serve` as a subprocess, a client's browser
that follows the portal's HTML forms (httpx, no JavaScript), a loopback proxy that loses
answers, and a firm set up through the repository the way staff would set it up."""

from __future__ import annotations

import email
import email.policy
import html
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

import httpx
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.domain import ContactStatus, ItemKind, StaffRole
from portal_tui.repository import Repository
from portal_tui.repository.portal_client import PortalClient
from portal_tui.repository.worker import run_pass
from portal_tui.service.models import MailMessage

T = TypeVar("T")

STARTUP_TIMEOUT = 30.0
PASSWORD = "a long and private passphrase"
FIRM_NAME = "Hale & Forde LLP"
NEW_ITEMS = "new_items"  # the service's kind of the "new items shared" email


def clean_env(root: Path) -> dict[str, str]:
    """Nothing of the developer's own settings: config and data folder under `root`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))}
    return {
        **env,
        "HOME": str(root),
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "PORTAL_TUI_CONFIG": str(root / "config.toml"),
        "PORTAL_TUI_DATA_DIR": str(root / "data"),
        "PYTHONIOENCODING": "utf-8",
    }


def portal_tui(
    env: dict[str, str], *args: str, timeout: float = 120, umask: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own; `umask`: the one it is started with."""
    return subprocess.run(
        [sys.executable, "-m", "portal_tui", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.05) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# The portal service, for real ---------------------------------------------------------------


@dataclass
class Service:
    """`portal-tui serve` in a process of its own, with its own SQLite and data folder (the
    mail sender runs inside it and writes each email as an .eml file there).

    `prelude` is Python run in the service's process before the command, for the one knob a
    test must turn (see test_crashes.py); empty, the service is `python -m portal_tui serve`.
    `database` is the portal database's URL when it is not that own SQLite file (several
    services on one database: give them the same URL and the same `token`).
    """

    env: dict[str, str]
    root: Path
    prelude: str = ""
    port: int = 0
    token: str = ""
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    database: str = ""

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.root / 'portal.db'}"

    @property
    def data_dir(self) -> Path:
        return Path(self.env["PORTAL_TUI_DATA_DIR"])

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "portal" / "mail"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def make_token(self, staff: str = "relay") -> str:
        made = portal_tui(
            self.env, "token", "create", "--staff", staff, "--database", self.database_url
        )
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()

    def start(self) -> None:
        """Start it (on the port it had before, when restarted) and wait until it answers."""
        assert self.proc is None or self.proc.poll() is not None
        if not self.token:
            self.token = self.make_token()
        self.starts += 1
        args = ["serve", "--port", str(self.port), "--database", self.database_url]
        if self.prelude:
            run = "import sys; from portal_tui.cli import main; sys.exit(main(sys.argv[1:]))"
            command = [sys.executable, "-c", f"{self.prelude}\n{run}", *args]
        else:
            command = [sys.executable, "-m", "portal_tui", *args]
        # Output goes to files: a pipe nobody reads would block the server once full.
        out = self.root / f"serve-{self.starts}.out"
        with out.open("wb") as stdout, (self.root / f"serve-{self.starts}.err").open("wb") as err:
            self.proc = subprocess.Popen(
                command, env=self.env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err
            )
        if self.port == 0:
            self.port = wait_for(self._announced_port, timeout=STARTUP_TIMEOUT, what="serve")
        wait_for(self._healthy, timeout=STARTUP_TIMEOUT, what=f"{self.base}/healthz")

    def _announced_port(self) -> int | None:
        self._check_alive()
        text = (self.root / f"serve-{self.starts}.out").read_text()
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", text)
        return int(found.group(1)) if found else None

    def _healthy(self) -> bool:
        self._check_alive()
        try:
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def _check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            err = (self.root / f"serve-{self.starts}.err").read_text()
            raise AssertionError(f"portal-tui serve exited with {self.proc.returncode}:\n{err}")

    def stop(self) -> None:
        """SIGTERM: the way an operator stops it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, whatever it was doing."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def api(self) -> httpx.Client:
        """The staff API, read directly (to look at what the portal holds)."""
        return httpx.Client(
            base_url=f"{self.base}/api/v1",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=15,
        )

    def mail_rows(self, kind: str) -> list[tuple[str, bool]]:
        """The service's own record of the emails of `kind`: (to, sent) per email."""
        db = Database(self.database_url)
        try:
            with db.read() as s:
                rows = s.execute(
                    select(MailMessage.to_addr, MailMessage.sent_at).where(MailMessage.kind == kind)
                )
                return [(to, sent is not None) for to, sent in rows]
        finally:
            db.dispose()


# Mail, as the .eml files the service wrote ---------------------------------------------------


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


def read_mail(folder: Path) -> list[Mail]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        body = msg.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        found.append(Mail(str(msg["To"]), str(msg["Subject"]), str(text)))
    return found


def new_items_mail(folder: Path) -> Counter[str]:
    """How many "new items" emails each address got."""
    return Counter(m.to for m in read_mail(folder) if "in your client portal" in m.subject)


def invitation_links(folder: Path, to: str) -> list[str]:
    links = []
    for m in read_mail(folder):
        if m.to == to and "invitation" in m.subject.lower():
            found = re.search(r"https?://\S+?(/invite/[A-Za-z0-9_-]+)", m.text)
            assert found, m.text
            links.append(found.group(1))
    return links


# A client, in a browser without JavaScript ----------------------------------------------------


_FORM = re.compile(r"<form\b[^>]*\baction=\"([^\"]*)\"[^>]*>(.*?)</form>", re.S)
_HIDDEN = re.compile(r"<input\b[^>]*\btype=\"hidden\"[^>]*>")
_ATTR = re.compile(r"\b(name|value)=\"([^\"]*)\"")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


class Browser:
    """One client's browser: keeps its cookies, GETs a page, reads the form's CSRF token and
    posts the form, following redirects as a browser does."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, follow_redirects=True, timeout=15)

    def close(self) -> None:
        self.http.close()

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def submit(
        self,
        page: str,
        fields: dict[str, str],
        *,
        action: str | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        """Fill in the form of `page` (its CSRF token included) and post it to `action`."""
        shown = self.get(page)
        assert shown.status_code == 200, (page, shown.status_code, shown.text[:500])
        data = {"csrf": csrf_of(shown.text), **fields}
        return self.http.post(action or page, data=data, files=files)

    def fill_in(self, page: httpx.Response, action: str, fields: dict[str, str]) -> httpx.Response:
        """Post the form of `page` whose action is `action` as a browser would: with every
        hidden field the form has (its CSRF token, and whatever else the page put there)."""
        assert page.status_code == 200, (page.url, page.status_code, page.text[:500])
        for form in _FORM.finditer(page.text):
            if html.unescape(form.group(1)) != action:
                continue
            data = {}
            for tag in _HIDDEN.findall(form.group(2)):
                attrs = dict(_ATTR.findall(tag))
                data[attrs["name"]] = html.unescape(attrs.get("value", ""))
            return self.http.post(action, data={**data, **fields})
        raise AssertionError(f"no form posting to {action} on {page.url}")

    def log_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        done = self.submit("/login", {"email": email, "password": password, "next": ""})
        assert done.status_code == 200 and "portal_session" in self.http.cookies, done.text[:500]
        return done

    def accept_invitation(self, link: str, password: str = PASSWORD) -> httpx.Response:
        """P1: set a password through the invitation link, or (already having one, and logged
        in) add the matter to the account."""
        shown = self.get(link)
        assert shown.status_code == 200, shown.text[:500]
        action = re.search(r'<form method="post" action="(/invite/[^"]+)"', shown.text)
        assert action, shown.text[:2000]
        fields = (
            {}
            if action.group(1).endswith("/accept")
            else {
                "password": password,
                "confirm": password,
            }
        )
        done = self.submit(link, fields, action=action.group(1))
        assert done.status_code == 200 and re.search(r"/m/\d+/$", str(done.url)), done.url
        return done


# A loopback proxy that loses answers ----------------------------------------------------------


@dataclass
class Exchange:
    """One request through the proxy and what became of its answer."""

    method: str
    path: str
    key: str | None
    status: int | None = None
    replayed: bool = False
    answer: bytes = b""
    dropped: bool = False


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        assert name.strip().lower() != b"transfer-encoding", "chunked requests are not proxied"
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(min(1 << 20, length - len(body)))
        if not chunk:
            return None
        body += chunk
    # One request per connection: the server closes after answering, so the whole answer is
    # simply everything it sends.
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _parse_answer(raw: bytes) -> tuple[int | None, bool, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/"):
        return None, False, b""
    status = int(lines[0].split()[1])
    replayed = any(ln.lower().startswith(b"idempotent-replayed: true") for ln in lines[1:])
    return status, replayed, body


class LossyProxy:
    """Between the firm and the portal on loopback. Each request is handed over whole, the
    server's whole answer is read, and then — for a seeded random share of the requests — the
    client's connection is closed without the answer: the server did the work, the firm never
    hears of it. `on_forwarded(exchange)` runs once a request is handed over (before its
    answer is read), for a test that wants to act at exactly that moment; it may set the
    exchange's `dropped` to lose that answer whatever the draw."""

    def __init__(
        self,
        upstream_port: int,
        *,
        drop_rate: float = 0.0,
        seed: int = 0,
        on_forwarded: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.upstream_port = upstream_port
        self.drop_rate = drop_rate
        self.on_forwarded = on_forwarded
        self.exchanges: list[Exchange] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="lossy-proxy", daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = _read_request(conn)
            except OSError:
                return
            if request is None:
                return
            first, _, rest = request.partition(b"\r\n")
            method, path = first.decode().split()[:2]
            key = re.search(rb"(?im)^idempotency-key:\s*(\S+)", rest)
            exchange = Exchange(method, path, key.group(1).decode() if key else None)
            raw = b""
            try:
                with socket.create_connection(("127.0.0.1", self.upstream_port), 5) as up:
                    up.sendall(request)
                    if self.on_forwarded is not None:
                        self.on_forwarded(exchange)
                    up.settimeout(60)
                    while chunk := up.recv(65536):
                        raw += chunk
            except OSError:
                pass  # the server is gone: whatever came back is all there is
            exchange.status, exchange.replayed, exchange.answer = _parse_answer(raw)
            with self._lock:
                # Drawn in the order answers come back: one relay sends one request at a time,
                # so the same seed loses the same answers.
                lose = self._rng.random() < self.drop_rate
                exchange.dropped = exchange.dropped or exchange.status is None or lose
                self.exchanges.append(exchange)
            if not exchange.dropped:
                conn.sendall(raw)


# The firm, set up as staff would --------------------------------------------------------------


@dataclass
class Client:
    id: int
    name: str
    email: str
    matters: list[int] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)


@dataclass
class Firm:
    repo: Repository  # acting as the Admin staff user "admin"
    clients: list[Client]

    @property
    def matters(self) -> list[int]:
        return [m for c in self.clients for m in c.matters]

    def close(self) -> None:
        self.repo.close()


def build_firm(url: str, matters_per_client: Iterable[int]) -> Firm:
    """A firm with one Admin, and a client per entry of `matters_per_client` with that many
    matters, each matter's portal ON and the client invited to it."""
    system = Repository.open(url)
    system.setup_firm(FIRM_NAME)
    system.add_staff("admin", "Ada Admin", "admin@firm.test", StaffRole.ADMIN)
    repo = Repository(system.db, "admin")
    clients = []
    number = 0
    for n, count in enumerate(matters_per_client, 1):
        name = f"Client {n} Byrne"
        mail = f"client{n}@example.test"
        client = Client(repo.add_client(name, primary_email=mail), name, mail)
        for k in range(count):
            number += 1
            matter = repo.add_matter(client.id, number=f"2026-{number:04d}", name=f"Matter {k}")
            repo.set_matter_portal(matter, True)
            client.matters.append(matter)
            client.contacts.append(repo.invite_contact(matter, client.id, name=name, email=mail))
        clients.append(client)
    return Firm(repo, clients)


def deliver_all(repo: Repository, client: PortalClient, *, timeout: float = 60) -> None:
    """Passes until nothing is pending, each row waiting out its own backoff (each pass also
    reads the changes feed)."""

    def done() -> bool:
        report = run_pass(repo, client)
        return repo.pending_deliveries() == 0 and report.problem is None

    wait_for(done, timeout=timeout, what="every outbox row delivered", every=0.1)


def activate_clients(firm: Firm, service: Service, client: PortalClient) -> None:
    """Deliver the invitations, then each client sets a password through the link in the
    email (and adds its other matters), and the firm hears of it through the changes feed."""
    deliver_all(firm.repo, client)
    for c in firm.clients:

        def invitations(c: Client = c) -> list[str] | None:
            found = invitation_links(service.mail_dir, c.email)
            return found if len(found) == len(c.contacts) else None

        links = wait_for(invitations, timeout=20, what=f"the invitations to {c.email}")
        browser = Browser(service.base)
        try:
            for link in links:
                browser.accept_invitation(link)
        finally:
            browser.close()
    run_pass(firm.repo, client)
    for c in firm.clients:
        for matter in c.matters:
            statuses = {row.status for row in firm.repo.contacts(matter)}
            assert statuses == {ContactStatus.ACTIVE}, (matter, statuses)


def add_notes(firm: Firm, count: int) -> list[tuple[ItemKind, int]]:
    """`count` notes spread over the firm's matters, not shared yet."""
    matters = firm.matters
    return [
        (
            ItemKind.NOTE,
            firm.repo.add_note(matters[n % len(matters)], subject=f"Note {n}", body="."),
        )
        for n in range(count)
    ]


def share_all(firm: Firm, items: list[tuple[ItemKind, int]]) -> None:
    """Share them in one go: one batch, so one email per client."""
    assert firm.repo.share_many(items, share=True) == (len(items), [])


# What the portal ends up with ------------------------------------------------------------------


def assert_published_once(service: Service, items: Iterable[tuple[ItemKind, int]]) -> None:
    """Each item on the portal, at the one version it was shared at (a document with its
    bytes); a publish applied twice would still be version 1, the emails tell that apart."""
    with service.api() as api:
        for kind, item_id in items:
            held = api.get(f"/items/{kind.value}/{item_id}").json()
            assert (held["published"], held["version"]) == (True, 1), (kind, item_id, held)
            if kind is ItemKind.DOCUMENT:
                assert held["has_content"] is True, (kind, item_id, held)


def assert_one_email_each(service: Service, firm: Firm) -> None:
    """Every client got exactly one "new items" email, written by the service's sender."""
    emails = {c.email for c in firm.clients}
    wait_for(
        lambda: set(new_items_mail(service.mail_dir)) == emails,
        timeout=30,
        what="a new-items email to each client",
    )
    assert new_items_mail(service.mail_dir) == {e: 1 for e in emails}
    assert sorted(service.mail_rows(NEW_ITEMS)) == sorted((e, True) for e in emails)
