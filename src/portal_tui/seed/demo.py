"""The demo firm: `portal-tui seed --demo [--seed N]` and `portal-tui demo`.

Everything is written through the repository, as staff would: each item gets its audit entry,
and each share and portal change its outbox row, so the demo exercises the same paths as real
use and the embedded portal receives what was shared. The content comes from `demo_data`;
`random.Random(seed)` only varies details, and no value depends on the clock, except the
timestamps the repository itself stamps as "now" (created_at, sent_at, audit times).
"""

from __future__ import annotations

import getpass
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import make_url

from portal_tui.domain.decision import Refused
from portal_tui.domain.kinds import Category, ItemKind
from portal_tui.domain.states import (
    ContactStatus,
    FormRule,
    InvoiceStatus,
    MatterStatus,
    PartyAccess,
    StaffRole,
)
from portal_tui.private import private_folder
from portal_tui.repository import Repository

from . import demo_data as data
from .demo_data import ClientSpec, MatterSpec

# The demo firm sits in Central time; events are stored in UTC (fixed offset: no tz database
# needed, and an hour off in summer does not matter for demo data).
FIRM_TZ = timezone(timedelta(hours=-6))


class DemoRefused(Refused):
    """The database is not empty: the demo firm never mixes with a firm's real data."""

    def __init__(self, message: str) -> None:
        super().__init__("seed", message)


def seed_demo(
    database_url: str,
    seed: int = 1,
    *,
    linked_root: Path | None = None,
    today: date = data.DEMO_TODAY,
) -> None:
    """Write the demo firm into an empty firm database, the same for the same seed.

    `linked_root` is where the linked folders (a document integration) are created on disk;
    by default `linked-docs` next to an SQLite file, else under the user data folder. `today`
    anchors every date (default: a fixed day, so the demo does not drift with the calendar).
    Raises DemoRefused, and writes nothing, when the database already holds matters; one
    transaction, so an error on the way (a full disk) writes nothing either.
    """
    root = linked_root if linked_root is not None else default_linked_root(database_url)
    system = Repository.open(database_url)
    try:
        _check_empty(system)
        writer = _DemoWriter(system, random.Random(seed), root, today)
        # All or nothing: a seed that fails half-way (a full disk) leaves the firm as empty
        # as it was, so that it can simply be run again.
        with system.db.one_transaction():
            writer.firm_and_staff()
            # Items are written by the staff who would write them (notes and messages name
            # their author); these repositories share the system one's engine, closed below.
            writer.write(lambda login: Repository(system.db, login))
    finally:
        system.close()


def _check_empty(repo: Repository) -> None:
    """Refuse before writing anything, rather than fail half-way on a duplicate."""
    if repo.list_matters(limit=1).rows:
        raise DemoRefused(
            "The firm database already holds matters; the demo firm is written only into an "
            "empty one (try `portal-tui demo`, which keeps a database of its own)."
        )
    taken = {s.login for s in repo.list_staff()} & {s.login for s in data.STAFF}
    if taken:
        raise DemoRefused(
            f"The firm database already has staff user {min(taken)!r}; the demo firm is "
            "written only into an empty one (try `portal-tui demo`)."
        )


def default_linked_root(database_url: str) -> Path:
    """`<database folder>/linked-docs` for an SQLite file; the user data folder otherwise."""
    url = make_url(database_url)
    database = url.database or ""
    # An in-memory or URI-style SQLite database has no plain folder to sit next to.
    if (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
    ):
        return Path(os.path.abspath(database)).parent / data.LINKED_DIR
    import platformdirs

    return Path(platformdirs.user_data_dir("portal-tui")) / data.LINKED_DIR


# Writing ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Matter:
    spec: MatterSpec
    id: int
    client: ClientSpec
    client_id: int
    opened: date
    permitted: frozenset[Category]
    contact_active: bool


class _DemoWriter:
    def __init__(self, system: Repository, rng: random.Random, root: Path, today: date):
        self.system = system
        self.rng = rng
        self.root = root
        self.today = today
        self.staff_ids: dict[str, int] = {}
        self.invoice_number = 1040

    # Firm, staff, clients, matters ------------------------------------------------------------

    def firm_and_staff(self) -> None:
        self.system.setup_firm(data.FIRM_NAME)
        for spec in data.STAFF:
            self.staff_ids[spec.login] = self.system.add_staff(
                spec.login, spec.name, spec.email, spec.role
            )
        # The app acts as the staff user whose login is the OS login, so whoever runs the demo
        # can use it at once without setting staff_user.
        login = _os_login()
        if login and login not in self.staff_ids:
            self.staff_ids[login] = self.system.add_staff(
                login, data.OS_USER_NAME, f"{login}@{data.FIRM_DOMAIN}", StaffRole.ADMIN
            )

    def write(self, as_staff: Callable[[str], Repository]) -> None:
        admin = as_staff("admin")
        lawyers = (as_staff("jnormal"), as_staff("mparker"))
        billing = as_staff("bbilling")
        client_ids = {
            c.key: admin.add_client(
                c.name,
                primary_email=c.email,
                phone=c.phone,
                address=c.address,
                date_of_birth=c.born,
            )
            for c in data.CLIENTS
        }
        clients = {c.key: c for c in data.CLIENTS}
        firm = admin.firm_portal().permissions
        matters: list[_Matter] = []
        for spec in data.MATTERS:
            matters.append(
                self._matter(admin, spec, clients[spec.client], client_ids[spec.client], firm)
            )
        for i, matter in enumerate(matters):
            lawyer = lawyers[i % 2]
            if matter.spec.portal is not None and "mparker" in matter.spec.portal.restricted:
                lawyer = lawyers[0]  # a Restricted party may not write the client (M5)
            self._invoices(billing, admin, matter)
            self._events(lawyer, matter)
            self._tasks(lawyer, matter)
            self._notes(lawyer, matter)
            self._documents(lawyer, matter)
            self._messages(lawyer, matter)
        by_number = {m.spec.number: m for m in matters}
        self._forms(admin, by_number[data.ASSOCIATE_FORM_MATTER])

    def _matter(
        self,
        repo: Repository,
        spec: MatterSpec,
        client: ClientSpec,
        client_id: int,
        firm: frozenset[Category],
    ) -> _Matter:
        rng = self.rng
        last_day = min(date(spec.year, 12, 31), self.today - timedelta(days=21))
        first_day = date(spec.year, 1, 5)
        opened = first_day + timedelta(days=rng.randrange(max((last_day - first_day).days, 0) + 1))
        matter_id = repo.add_matter(
            client_id,
            number=spec.number,
            name=spec.name,
            practice_area=spec.area,
            description=spec.description,
            opened_on=opened,
            status=spec.status,
        )
        permitted: frozenset[Category] = frozenset()
        active = False
        portal = spec.portal
        if portal is not None:
            repo.set_matter_portal(matter_id, True)
            permitted = portal.permissions.categories(firm)
            if permitted != firm:
                repo.set_matter_permissions(matter_id, permitted)
            for login in portal.restricted:
                repo.set_party_access(matter_id, self.staff_ids[login], PartyAccess.RESTRICTED)
            if portal.contact is not None and client.email:
                contact_id = repo.invite_contact(
                    matter_id, client_id, name=client.name, email=client.email
                )
                if portal.contact is ContactStatus.ACTIVE:
                    at = _at(opened + timedelta(days=rng.randrange(2, 10)), 19, 30)
                    repo.record_contact_activated(contact_id, at)
                    active = True
        return _Matter(spec, matter_id, client, client_id, opened, permitted, active)

    # Items ------------------------------------------------------------------------------------

    def _day_between(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange(max((end - start).days, 0) + 1))

    def _invoices(self, billing: Repository, sharer: Repository, m: _Matter) -> None:
        rng = self.rng
        closed = m.spec.status is MatterStatus.CLOSED
        showcase = "invoices" in m.spec.showcase
        count = 3 if showcase else 2 if closed else rng.randrange(1, 4)
        # Final invoices follow the matter's first months; an open matter's newest invoice is
        # this month's Draft, the one a billing user would finalise next.
        days: list[date] = []
        issued = m.opened + timedelta(days=rng.randrange(20, 45))
        for _ in range(count - (0 if closed else 1)):
            days.append(min(issued, self.today - timedelta(days=35)))
            issued += timedelta(days=rng.randrange(28, 75))
        if not closed:
            days.append(self.today - timedelta(days=rng.randrange(1, 25)))
        for k, day in enumerate(days):
            final = closed or k < len(days) - 1
            lines = self._lines(m.spec.area)
            total = sum(_amount(q, r) for _d, q, r in lines)
            paid = 0
            if final and (closed or rng.random() < 0.5):
                paid = total
            elif final and rng.random() < 0.3:
                paid = total // 2
            self.invoice_number += 1
            invoice_id = billing.add_invoice(
                m.id,
                number=f"INV-{self.invoice_number:05d}",
                issued_on=day,
                due_on=day + timedelta(days=30),
                lines=lines,
                status=InvoiceStatus.FINAL if final else InvoiceStatus.DRAFT,
                paid_cents=paid,
            )
            if showcase and final:
                sharer.share(ItemKind.INVOICE, invoice_id)

    def _lines(self, area: str) -> list[tuple[str, Decimal, int]]:
        rng = self.rng
        pool = data.fee_lines(area)
        chosen = sorted(rng.sample(range(len(pool)), k=min(len(pool), rng.randrange(2, 4))))
        lines: list[tuple[str, Decimal, int]] = []
        for index in chosen:
            text, quantity, rate = pool[index]
            if quantity != quantity.to_integral_value() or rate >= 20_000:
                quantity += Decimal(rng.randrange(0, 5)) / 2  # hours vary by half hours
            lines.append((text, quantity, rate))
        return lines

    def _events(self, repo: Repository, m: _Matter) -> None:
        rng = self.rng
        titles = data.EVENTS.get(m.spec.area, data.DEFAULT_EVENTS)
        closed = m.spec.status is MatterStatus.CLOSED
        share_one = "event" in m.spec.showcase
        # Open matters get one event in the coming weeks, so calendars are not all history.
        upcoming_at = self.today + timedelta(days=rng.randrange(3, 60))
        picks = rng.sample(titles, k=min(len(titles), 2 if closed else 3))
        for k, title in enumerate(picks):
            if not closed and k == len(picks) - 1:
                day = upcoming_at
            else:
                day = self._day_between(m.opened, min(self.today, m.opened + timedelta(days=300)))
            starts = _at(day, rng.randrange(9, 16), rng.choice((0, 30)))
            upcoming = day >= self.today
            repo.add_event(
                m.id,
                title=title,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=rng.choice((30, 60, 90, 120))),
                location=data.event_location(title, rng.random()),
                description=rng.choice(data.EVENT_DETAILS),
                share=share_one and upcoming,
            )

    def _tasks(self, repo: Repository, m: _Matter) -> None:
        rng = self.rng
        titles = data.TASKS.get(m.spec.area, data.DEFAULT_TASKS)
        closed = m.spec.status is MatterStatus.CLOSED
        share_one = "task" in m.spec.showcase
        assignees = [self.staff_ids["jnormal"], self.staff_ids["mparker"], None]
        for k, title in enumerate(rng.sample(titles, k=min(len(titles), 3))):
            if closed or k == 0:
                due = self._day_between(m.opened, min(self.today, m.opened + timedelta(days=200)))
            else:
                due = self.today + timedelta(days=rng.randrange(-10, 90))
            repo.add_task(
                m.id,
                title=title,
                due_on=due,
                assignee_id=rng.choice(assignees),
                description=rng.choice(data.TASK_DETAILS),
                done=due < self.today,
                share=share_one and k == 1,
            )

    def _notes(self, repo: Repository, m: _Matter) -> None:
        share_one = "note" in m.spec.showcase
        for k, (subject, body) in enumerate(self.rng.sample(data.NOTES, k=2)):
            repo.add_note(m.id, subject=subject, body=body, share=share_one and k == 0)

    def _documents(self, repo: Repository, m: _Matter) -> None:
        rng = self.rng
        folders: dict[str, int] = {}

        def folder(name: str) -> int:
            if name not in folders:
                portal = name == data.CLIENT_PORTAL_FOLDER
                # The portal's folder is made by the repository, where uploads also land (P2).
                folders[name] = (
                    repo.client_portal_folder(m.id) if portal else repo.add_folder(m.id, name)
                )
            return folders[name]

        wanted = ["Engagement letter.pdf"]
        if rng.random() < 0.5:
            wanted.append("Fee agreement.pdf")
        if m.spec.area in ("Litigation", "Personal Injury", "Consumer"):
            wanted.append("Complaint.pdf")
        if rng.random() < 0.3:
            wanted.append("Research memo.txt")
        if m.spec.portal is not None:
            wanted.append("Welcome to the client portal.pdf")
        share_one = "document" in m.spec.showcase
        for folder_name, file_name, title in data.STORED_DOCUMENTS:
            if file_name not in wanted:
                continue
            content = self._file_bytes(file_name, title, m)
            doc_id = repo.add_document(m.id, folder(folder_name), name=file_name, content=content)
            if share_one and file_name == "Engagement letter.pdf":
                repo.share(ItemKind.DOCUMENT, doc_id)
        if m.contact_active and Category.DOCUMENTS in m.permitted and rng.random() < 0.5:
            # What a client uploads through the portal lands in the portal's folder (P2).
            name = "Bank statements.pdf"
            repo.add_document(
                m.id,
                folder(data.CLIENT_PORTAL_FOLDER),
                name=name,
                content=self._file_bytes(name, "Bank statements", m),
                from_client=True,
            )
        if m.spec.linked:
            self._linked(repo, m)

    def _linked(self, repo: Repository, m: _Matter) -> None:
        """A folder on disk, linked as a document integration (S3); files stay on disk."""
        path = self.root / m.spec.number
        private_folder(path)
        folder_id = repo.add_folder(m.id, data.LINKED_FOLDER, linked_path=str(path))
        share_one = "linked document" in m.spec.showcase
        for k, (file_name, title) in enumerate(data.LINKED_FILES):
            # Written whole each time, so a second run with the same seed finds equal files.
            (path / file_name).write_bytes(self._file_bytes(file_name, title, m))
            doc_id = repo.link_document(m.id, folder_id, linked_name=file_name)
            if share_one and k == 0:
                repo.share(ItemKind.DOCUMENT, doc_id)

    def _file_bytes(self, file_name: str, title: str, m: _Matter) -> bytes:
        lines = [
            f"{data.FIRM_NAME}",
            f"Matter {m.spec.number}: {m.spec.name}",
            f"Client: {m.client.name}",
            f"Date: {m.opened + timedelta(days=self.rng.randrange(1, 30)):%B %d, %Y}",
            "",
            m.spec.description,
        ]
        if file_name.endswith(".pdf"):
            return tiny_pdf(title, lines)
        return ("\n".join([title, "=" * len(title), "", *lines]) + "\n").encode()

    def _messages(self, repo: Repository, m: _Matter) -> None:
        if not m.contact_active or Category.MESSAGES not in m.permitted:
            return
        count = self.rng.randrange(1, 3)
        for subject, body in self.rng.sample(data.STAFF_MESSAGES, k=count):
            repo.add_message(m.id, subject=subject, body=body, share=True)

    def _forms(self, repo: Repository, associate_with: _Matter) -> None:
        repo.add_form(
            data.ASSOCIATE_FORM_NAME,
            fields=[dict(f) for f in data.ASSOCIATE_FORM_FIELDS],
            rule=FormRule.ASSOCIATE,
            matter_id=associate_with.id,
            description=data.ASSOCIATE_FORM_DESCRIPTION,
        )
        repo.add_form(
            data.CREATE_FORM_NAME,
            fields=[dict(f) for f in data.CREATE_FORM_FIELDS],
            rule=FormRule.CREATE,
            description=data.CREATE_FORM_DESCRIPTION,
        )


# Helpers ----------------------------------------------------------------------------------------


def _os_login() -> str | None:
    try:
        return getpass.getuser() or None
    except (KeyError, OSError, ImportError):
        # No USER/LOGNAME and no passwd entry (some containers): then staff_user must be set.
        return None


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=FIRM_TZ).astimezone(UTC)


def _amount(quantity: Decimal, rate_cents: int) -> int:
    return int((quantity * rate_cents).to_integral_value())


def _pdf_text(text: str) -> str:
    plain = text.replace("–", "-").replace("—", "-").replace("’", "'")
    plain = plain.encode("ascii", "replace").decode("ascii")
    return plain.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def tiny_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A one-page PDF that real viewers open: the title and a few lines in Helvetica."""
    ops = ["BT", "/F1 18 Tf", "72 720 Td", f"({_pdf_text(title)}) Tj", "/F1 11 Tf", "0 -12 Td"]
    for line in lines:
        ops += ["0 -16 Td", f"({_pdf_text(line)}) Tj"]
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
