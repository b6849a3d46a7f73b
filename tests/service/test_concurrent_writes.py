"""Two `portal-tui serve` processes on one portal database, on SQLite and on PostgreSQL.

The portal may run as several processes against one database, so every write of its own state
that depends on what it read must hold when the same write races on another process
(docs/many-staff.md: no read-modify-write in Python): an Idempotency-Key is applied once, an
item's version only grows, each email is sent once, an invitation link sets one password, a
burst of wrong passwords gets no more checks than the limit, and a first download is recorded
once. Each test lines real HTTP requests up behind a barrier, half of them to each process.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, TypeVar

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import func, select, text

from portal_tui.database import Database
from portal_tui.service.models import LoginFailure, MailMessage, PortalItem
from portal_tui.service.pages.ratelimit import account_key
from portal_tui.service.schema import ensure_service_schema
from portal_tui.service.tokens import create_token

from ..delivery.support import PASSWORD, Service, clean_env, csrf_of, wait_for
from .api.conftest import contact_body, firm_body, matter_body, publish_body

T = TypeVar("T")

# Every email takes this long in the SMTP server, so that two senders' emails interleave.
SMTP_DELAY_S = 0.05
SENDER_EMAILS = 16
LOGIN_LIMIT = 5  # ServiceConfig.login_limit_per_account, which `serve` keeps
LOGIN_FAILED = "We could not log you in"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _open() -> threading.Event:
    gate = threading.Event()
    gate.set()
    return gate


@dataclass
class Inbox:
    """An aiosmtpd handler keeping every email, and how many it is taking in at once. While
    `gate` is clear, each email is held before it is taken (its sender waits for the answer)."""

    received: list[EmailMessage] = field(default_factory=list)
    active: int = 0
    gate: threading.Event = field(default_factory=_open)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        self.active += 1
        try:
            while not self.gate.is_set():
                await asyncio.sleep(0.01)
            await asyncio.sleep(SMTP_DELAY_S)
            raw = envelope.original_content or b""
            message = message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.received.append(message)
        finally:
            self.active -= 1
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in list(self.received) if str(m["To"]) == address]

    def links(self, address: str, count: int) -> list[str]:
        """The invitation links of the `count` invitations to `address`, once all arrived."""

        def found() -> list[str] | None:
            mails = self.to(address)
            if len(mails) < count:
                return None
            links = []
            for mail in mails:
                body = mail.get_body(("plain",))
                assert body is not None
                link = re.search(r"/invite/[A-Za-z0-9_-]+", str(body.get_content()))
                assert link, body
                links.append(link.group(0))
            return links

        return wait_for(found, timeout=30, what=f"{count} invitation(s) to {address}", every=0.1)


@dataclass
class Pair:
    """Two services on one portal database, mailing through one SMTP server."""

    services: tuple[Service, Service]
    db: Database
    inbox: Inbox

    def __getitem__(self, n: int) -> Service:
        return self.services[n % 2]


@pytest.fixture(scope="module")
def pg_module_url(pg_admin: Any) -> Iterator[str]:
    """A fresh PostgreSQL database for this module's two services."""
    from portal_tui.database import normalise_url

    from ..conftest import PG_ADMIN_URL

    name = f"pt_{uuid.uuid4().hex[:16]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield normalise_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp(f"pair-{request.param}")
    url = (
        f"sqlite:///{root / 'portal.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_module_url"))
    )
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    services: list[Service] = []
    for n in range(2):
        home = root / f"serve-{n}"
        home.mkdir()
        (home / "config.toml").write_text(
            f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\nsmtp_starttls = false\n'
            'mail_from = "portal@example.com"\n'
        )
        services.append(Service(clean_env(home), home, database=url))
    db = Database(url)
    try:
        ensure_service_schema(db)
        services[0].token = services[1].token = create_token(db, "relay")
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(Service.start, services))
        built = Pair((services[0], services[1]), db, inbox)
        settled(built[0], "PUT", "/firm", firm_body())
        yield built
    finally:
        for service in services:
            service.kill()
        controller.stop()
        db.dispose()


# Talking to the services ----------------------------------------------------------------------


def staff(
    service: Service, method: str, path: str, body: Any = None, *, key: str | None = None
) -> httpx.Response:
    """One staff API request (a write with `key`, or a fresh key)."""
    headers = {
        "Authorization": f"Bearer {service.token}",
        "Idempotency-Key": key or uuid.uuid4().hex,
    }
    return httpx.request(
        method, f"{service.base}/api/v1{path}", json=body, headers=headers, timeout=30
    )


def settled(
    service: Service, method: str, path: str, body: Any = None, *, key: str | None = None
) -> httpx.Response:
    """The answer once it is not "not now" (409) any more, retried with the same key."""
    key = key or uuid.uuid4().hex

    def answer() -> list[httpx.Response] | None:
        response = staff(service, method, path, body, key=key)
        return None if response.status_code == 409 else [response]

    return wait_for(answer, timeout=30, what=f"{method} {path} to settle", every=0.1)[0]


def race(count: int, send: Callable[[int], T]) -> list[T]:
    """send(0), ..., send(count - 1), each in a thread of its own, released together."""
    barrier = threading.Barrier(count)

    def run(n: int) -> T:
        barrier.wait(30)
        return send(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def add_matter(pair: Pair, matter_id: int, **changes: Any) -> None:
    answer = settled(pair[0], "PUT", f"/matters/{matter_id}", matter_body(matter_id, **changes))
    assert answer.status_code == 200, answer.text


def invite(pair: Pair, n: int, contact_id: int, matter_id: int, email: str) -> httpx.Response:
    body = contact_body(
        contact_id=contact_id, matter_id=matter_id, client_id=contact_id, email=email
    )
    answer = settled(pair[n], "PUT", f"/contacts/{contact_id}", body)
    assert answer.status_code == 200, answer.text
    return answer


def invitation_form(service: Service, link: str) -> tuple[httpx.Client, str]:
    """A browser that opened the invitation page: its cookies and the form's CSRF token."""
    browser = httpx.Client(base_url=service.base, timeout=30)
    shown = browser.get(link)
    assert shown.status_code == 200, shown.text[:500]
    return browser, csrf_of(shown.text)


def set_password(service: Service, link: str, password: str) -> httpx.Response:
    browser, token = invitation_form(service, link)
    try:
        return browser.post(link, data={"csrf": token, "password": password, "confirm": password})
    finally:
        browser.close()


def log_in(service: Service, email: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=service.base, timeout=30) as browser:
        shown = browser.get("/login")
        fields = {"csrf": csrf_of(shown.text), "email": email, "password": password, "next": ""}
        return browser.post("/login", data=fields)


def changes(pair: Pair, type: str) -> list[dict[str, Any]]:
    answer = pair[0].api().get("/changes", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    return [c["payload"] for c in answer.json()["changes"] if c["type"] == type]


def copies_at_once(pair: Pair, path: str, body: Any) -> list[httpx.Response]:
    """Eight copies of one PUT with one Idempotency-Key, sent at once; each one's answer."""
    key = uuid.uuid4().hex
    first = race(8, lambda n: staff(pair[n], "PUT", path, body, key=key))
    # 409: the first copy was still being handled; the relay retries it with the same key.
    assert {a.status_code for a in first} <= {200, 409}, [a.text for a in first]
    return [
        a if a.status_code == 200 else settled(pair[n], "PUT", path, body, key=key)
        for n, a in enumerate(first)
    ]


# The tests ------------------------------------------------------------------------------------


def test_one_idempotency_key_sent_to_both_processes_at_once_is_applied_once(pair: Pair) -> None:
    """Staff API: every copy of a write sent with one Idempotency-Key gets the first answer,
    and only one of them is applied, when the copies race on two processes — for a publish
    (key and work in one transaction) and for a contact's invitation (a claimed key)."""
    add_matter(pair, 101)
    email = "twice@example.com"
    writes = [
        ("/items/task/1001", publish_body("task", 1001, 1, matter_id=101, data={"title": "Sign"})),
        (
            "/contacts/1002",
            contact_body(contact_id=1002, matter_id=101, client_id=1002, email=email),
        ),
    ]
    for path, body in writes:
        answers = copies_at_once(pair, path, body)
        assert len({a.text for a in answers}) == 1, [a.text for a in answers]
        assert json.loads(answers[0].text)["applied"] is True
        ran = [a for a in answers if a.headers.get("Idempotent-Replayed") != "true"]
        assert len(ran) == 1, path
    with pair.db.read() as s:
        queued = s.scalar(
            select(func.count()).select_from(MailMessage).where(MailMessage.to_addr == email)
        )
    assert queued == 1  # one invitation, not one per copy


def test_publishes_of_one_item_racing_on_two_processes_end_at_the_newest(pair: Pair) -> None:
    """Versions of one item strictly increase and the portal applies only a newer one than it
    holds: thirty publishes and revokes of one item at once, in random order, on two
    processes, leave the newest; what the portal holds is never seen going back meanwhile."""
    add_matter(pair, 102)
    versions = list(range(1, 31))
    random.Random(7).shuffle(versions)
    path = "/items/task/2001"
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        with pair[1].api() as api:
            while not done.is_set():
                answer = api.get(path)
                if answer.status_code == 200:
                    seen.append(answer.json()["version"])

    def send(n: int) -> httpx.Response:
        version = versions[n]
        if version % 7 == 0:
            return settled(pair[n], "DELETE", f"{path}?version={version}&matter_id=102")
        body = publish_body("task", 2001, version, matter_id=102, data={"title": f"v{version}"})
        return settled(pair[n], "PUT", path, body)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        answers = race(len(versions), send)
    finally:
        done.set()
        watcher.join(30)
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    for version, answer in zip(versions, answers, strict=True):
        held = answer.json()
        # Applied: the portal holds this version now; not applied: it held one at least as new.
        assert held["version"] == version if held["applied"] else held["version"] >= version
    assert seen == sorted(seen), seen
    with pair.db.read() as s:
        item = s.get(PortalItem, ("task", 2001))
        assert item is not None and item.version == 30 and item.published
        assert item.data is not None and item.data["title"] == "v30"


def test_two_mail_senders_send_each_email_once(pair: Pair) -> None:
    """The mail sender of each process claims due emails from one outbox: each email is sent
    once (one Message-ID received once), while both senders are sending at the same time."""
    add_matter(pair, 103)
    addresses = [f"sender{n}@example.com" for n in range(SENDER_EMAILS)]
    pair.inbox.gate.clear()
    try:
        for n, address in enumerate(addresses):
            invite(pair, n, 3000 + n, 103, address)
        # Both senders are now in the middle of an email each (a sender sends one at a time),
        # with the rest still due: from here on they take emails from under each other.
        wait_for(lambda: pair.inbox.active >= 2, timeout=20, what="both senders sending")
    finally:
        pair.inbox.gate.set()

    def all_sent() -> bool:
        with pair.db.read() as s:
            unsent = s.scalar(
                select(func.count())
                .select_from(MailMessage)
                .where(MailMessage.to_addr.in_(addresses), MailMessage.sent_at.is_(None))
            )
        return unsent == 0

    wait_for(all_sent, timeout=60, what="every invitation marked sent", every=0.2)
    # An email is handed to the server before it is marked sent: a second copy would be here.
    received = [m for m in list(pair.inbox.received) if str(m["To"]) in addresses]
    per_message = Counter(str(m["Message-ID"]) for m in received)
    assert len(per_message) == SENDER_EMAILS and set(per_message.values()) == {1}, per_message


def test_invitation_links_used_at_once_set_one_password(pair: Pair) -> None:
    """P1: an invitation link is single-use, and an account gets its password once: one
    client's links to two matters, each used twice at the same moment on two processes with
    four passwords, let exactly one request in, and only its password logs in."""
    add_matter(pair, 104)
    add_matter(pair, 105)
    email = "both@example.com"
    body = contact_body(contact_id=4001, matter_id=104, client_id=4001, email=email)
    assert settled(pair[0], "PUT", "/contacts/4001", body).status_code == 200
    body = contact_body(contact_id=4002, matter_id=105, client_id=4001, email=email)
    assert settled(pair[1], "PUT", "/contacts/4002", body).status_code == 200
    first, second = pair.inbox.links(email, 2)
    tries = [(first, "password number one"), (first, "password number two")]
    tries += [(second, "password number three"), (second, "password number four")]
    forms = [invitation_form(pair[n], link) for n, (link, _) in enumerate(tries)]

    def post(n: int) -> httpx.Response:
        (link, password), (browser, token) = tries[n], forms[n]
        try:
            return browser.post(
                link, data={"csrf": token, "password": password, "confirm": password}
            )
        finally:
            browser.close()

    answers = race(len(tries), post)
    let_in = [
        n
        for n, a in enumerate(answers)
        if re.fullmatch(r"/m/10[45]/", a.headers.get("location", ""))
    ]
    assert len(let_in) == 1, [(a.status_code, a.headers.get("location")) for a in answers]
    for answer in answers:
        # The others: the link already spent (404), or the account's password already set.
        assert answer.status_code in (303, 404)
    logged_in = [
        n
        for n, (_, password) in enumerate(tries)
        if log_in(pair[n], email, password).status_code == 303
    ]
    assert logged_in == let_in
    assert [a["account_id"] for a in changes(pair, "activation")].count(4001) == 1


def test_a_burst_of_wrong_passwords_gets_no_more_checks_than_the_limit(pair: Pair) -> None:
    """Log-in limit per account: twelve wrong passwords at once, on two processes, are each
    counted; only as many as the limit are checked at all, the rest get 429, and then even
    the right password does."""
    add_matter(pair, 106)
    email = "burst@example.com"
    invite(pair, 0, 5001, 106, email)
    (link,) = pair.inbox.links(email, 1)
    assert set_password(pair[1], link, PASSWORD).status_code == 303

    answers = race(12, lambda n: log_in(pair[n], email, f"wrong guess {n}"))
    refused = [a for a in answers if a.status_code == 200 and LOGIN_FAILED in a.text]
    limited = [a for a in answers if a.status_code == 429]
    assert (len(refused), len(limited)) == (LOGIN_LIMIT, 12 - LOGIN_LIMIT)
    with pair.db.read() as s:
        counted = s.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.key == account_key(email))
        )
    assert counted == LOGIN_LIMIT
    assert log_in(pair[0], email, PASSWORD).status_code == 429


def test_first_views_and_downloads_racing_on_two_processes_are_recorded_once(
    pair: Pair,
) -> None:
    """The changes feed tells the firm of each client's first view and first download of an
    item once: the calendar and its .ics file opened in six tabs at once, on two processes,
    give one first view and one first download per event."""
    add_matter(pair, 107, permissions=["calendar_events"])
    events = [7101, 7102, 7103]
    for n, event in enumerate(events):
        data = {"title": f"Hearing {n}", "starts_at": f"2030-01-0{n + 1}T10:00:00+00:00"}
        answer = settled(
            pair[n],
            "PUT",
            f"/items/event/{event}",
            publish_body("event", event, 1, matter_id=107, data=data),
        )
        assert answer.status_code == 200 and answer.json()["applied"], answer.text
    email = "calendar@example.com"
    invite(pair, 1, 7001, 107, email)
    (link,) = pair.inbox.links(email, 1)
    activated = set_password(pair[0], link, PASSWORD)
    assert activated.status_code == 303, activated.text
    cookie = {"Cookie": f"portal_session={activated.cookies['portal_session']}"}

    for page in ("/m/107/calendar", "/m/107/calendar.ics"):
        answers = race(
            6, lambda n, page=page: httpx.get(f"{pair[n].base}{page}", headers=cookie, timeout=30)
        )
        assert [a.status_code for a in answers] == [200] * 6
    for type in ("first_view", "first_download"):
        recorded = Counter(c["item_id"] for c in changes(pair, type) if c["contact_id"] == 7001)
        assert recorded == Counter(events), type
