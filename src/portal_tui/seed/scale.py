"""Scale data for benchmarks: `portal-tui seed --matters N --activities M [--seed S]`.

One million activities must land in SQLite in well under two minutes on a small machine, so
this bypasses the repository (one command per item, each with its audit entry, would take
hours) and writes with SQLAlchemy Core: executemany batches inside one large transaction per
kind of item. It appends to whatever the database holds: ids continue from the current
maximum (taken under the write lock), and numbers are derived from those ids, so a second run
never collides with the first one or with demo data.

The content depends only on the seed, never on the clock, so two runs with the same seed into
empty databases are identical.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text

from portal_tui.database import Database
from portal_tui.domain.kinds import (
    ALL_CATEGORIES,
    Category,
    ItemKind,
    categories_from_names,
    categories_to_names,
)
from portal_tui.domain.rules import f2_default_firm_portal
from portal_tui.domain.states import (
    ContactStatus,
    InvoiceStatus,
    MatterStatus,
    PartyAccess,
    ShareState,
    StaffRole,
)
from portal_tui.store import models
from portal_tui.store.migrate import ensure_current

BATCH_ROWS = 10_000

# Shares of the activities by kind (invoices, events, tasks; notes take the rest).
INVOICE_SHARE, EVENT_SHARE, TASK_SHARE = 0.35, 0.25, 0.25

# Fixed, so the data does not depend on the day it is generated; it spans past and future.
WINDOW_START = date(2019, 1, 1)
WINDOW_END = date(2027, 12, 31)
# "Today" for the generated data: invoices and notes lie before it, tasks due before it are
# mostly done, and events and tasks also reach into the year after it.
REFERENCE_DAY = date(2026, 12, 1)

PORTAL_MATTER_RATE = 0.2
SHARE_RATE = 0.05  # of the items on portal matters in a permitted category
INVOICE_LINES_EVERY = 100  # only every 100th invoice gets lines; the rest carry a total only

SCALE_STAFF: tuple[tuple[str, str, StaffRole], ...] = (
    ("scale.admin", "Dana Whitfield", StaffRole.ADMIN),
    ("scale.partner", "Marcus Oyelaran", StaffRole.NORMAL),
    ("scale.associate", "Priya Raman", StaffRole.NORMAL),
    ("scale.paralegal", "Tom Kessler", StaffRole.NORMAL),
    ("scale.billing", "Grace Liu", StaffRole.BILLING),
    ("scale.reader", "Sam Ortega", StaffRole.READ_ONLY),
)

FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Wei",
    "Aisha",
    "Dmitri",
    "Fatima",
    "Hiroshi",
    "Ingrid",
    "Kwame",
    "Lucia",
    "Mateo",
    "Nadia",
    "Oliver",
    "Priya",
    "Quinn",
    "Rosa",
    "Sanjay",
    "Tara",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Nguyen",
    "Okafor",
    "Kowalski",
    "Schmidt",
    "Rossi",
    "Tanaka",
    "Haddad",
    "O'Brien",
    "Fischer",
    "Novak",
    "Sato",
    "Adeyemi",
    "Lindqvist",
    "Moreau",
    "Castillo",
)
COMPANY_WORDS = (
    "Harbor",
    "Summit",
    "Bluebird",
    "Granite",
    "Maple",
    "Northwind",
    "Riverside",
    "Keystone",
    "Evergreen",
    "Ironwood",
    "Lakeside",
    "Pioneer",
    "Silverline",
    "Cedar",
    "Atlas",
    "Beacon",
)
COMPANY_KINDS = (
    "Holdings LLC",
    "Bakery Inc.",
    "Logistics LLC",
    "Properties LP",
    "Dental Group",
    "Construction Co.",
    "Software Ltd.",
    "Farms LLC",
    "Partners LLP",
    "Trading Corp.",
)
STREETS = (
    "Elm",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Main",
    "Church",
    "River",
    "Highland",
    "Sunset",
    "Franklin",
    "Mill",
)
STREET_KINDS = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct")
CITIES = (
    "Springfield, IL 62701",
    "Madison, WI 53703",
    "Portland, OR 97205",
    "Albany, NY 12207",
    "Austin, TX 78701",
    "Boise, ID 83702",
    "Raleigh, NC 27601",
    "Columbus, OH 43215",
)
PRACTICE_AREAS = (
    "Estate Planning",
    "Probate",
    "Family Law",
    "Real Estate",
    "Litigation",
    "Corporate",
    "Employment",
    "Immigration",
    "Personal Injury",
    "Bankruptcy",
)
OPPONENTS = (
    "Castle Insurance Co.",
    "Metro Transit Authority",
    "Apex Builders",
    "the City",
    "Sterling Bank",
    "Northside Hospital",
    "Dalton Motors",
    "Pinecrest HOA",
)
EVENT_TITLES = (
    "Initial consultation",
    "Client meeting",
    "Deposition",
    "Mediation session",
    "Court hearing",
    "Status conference",
    "Closing",
    "Document signing",
    "Phone call",
    "Filing deadline",
    "Settlement conference",
    "Trial preparation",
    "Site visit",
)
LOCATIONS = (
    "Conference Room A",
    "Conference Room B",
    "County Courthouse, Room 4",
    "Video call",
    "Client's office",
    "Title company",
    "Phone",
    None,
)
TASK_TITLES = (
    "Draft engagement letter",
    "Review lease",
    "Prepare discovery responses",
    "Send retainer invoice",
    "Collect bank statements",
    "File motion",
    "Order title search",
    "Schedule deposition",
    "Prepare closing documents",
    "Request medical records",
    "Update client on status",
    "Draft will",
    "Review contract",
    "Serve subpoena",
    "Calendar response deadline",
    "Research case law",
)
NOTE_SUBJECTS = (
    "Call with client",
    "Strategy",
    "Meeting summary",
    "Opposing counsel call",
    "Document review",
    "Billing question",
    "Court clerk call",
    "Research notes",
    "Email summary",
    "Next steps",
)
NOTE_BODIES = (
    "Discussed timeline and next steps; client agreed to send the remaining documents.",
    "Opposing counsel open to mediation; follow up next week.",
    "Reviewed the draft; minor changes to clauses 4 and 7.",
    "Client asked about fees; explained the billing schedule.",
    "Clerk confirmed the hearing date; no continuance needed.",
    "Key precedent found; summarised in the research memo.",
    "Left a voicemail; will try again tomorrow morning.",
    "Client prefers email for routine updates.",
)
INVOICE_LINE_TEXTS = (
    "Professional services",
    "Court filing fee",
    "Document preparation",
    "Legal research",
    "Client conference",
    "Travel",
    "Photocopies and postage",
    "Title search fee",
)

_START_ORD = WINDOW_START.toordinal()
_END_ORD = WINDOW_END.toordinal()
_REF_ORD = REFERENCE_DAY.toordinal()


@dataclass(slots=True)
class _MatterInfo:
    """What the activity generators need of each matter, kept in parallel lists."""

    ids: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)  # date ordinals
    # Categories a share is allowed in, empty for a matter whose portal is OFF.
    shareable: list[frozenset[Category]] = field(default_factory=list)
    cum_weights: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Plan:
    invoices: int
    events: int
    tasks: int
    notes: int


def split_activities(activities: int) -> _Plan:
    """The 35/25/25/15 split, summing to exactly `activities`."""
    invoices = round(activities * INVOICE_SHARE)
    events = round(activities * EVENT_SHARE)
    tasks = round(activities * TASK_SHARE)
    notes = activities - invoices - events - tasks
    return _Plan(invoices, events, tasks, max(notes, 0))


def seed_scale(
    database_url: str, matters: int, activities: int, seed: int = 1, progress: bool = True
) -> None:
    """Append `matters` matters and `activities` activities (invoices, events, tasks, notes).

    Also about matters/1.5 clients, the scale staff users (once), the firm row if missing,
    portal settings, parties and contacts on a fifth of the matters, and share marks for a
    few of their items. The marks say "shared" as if already delivered: no outbox rows are
    written, so the portal service never receives these items (benchmark data only).
    """
    if matters < 1 and activities > 0:
        raise ValueError("activities need at least one matter")
    if matters < 0 or activities < 0:
        raise ValueError("matters and activities cannot be negative")
    db = Database(database_url)
    try:
        ensure_current(db)
        rng = random.Random(seed)
        plan = split_activities(activities)
        # One transaction for the whole run: a full disk or a lost connection half-way leaves
        # the firm as it was, so the same command can simply be run again.
        with (
            _progress_bar(progress, total=matters + activities) as advance,
            db.outside_errors(),
            db.writer.begin() as conn,
        ):
            writer = _Writer(conn, rng, advance)
            info = writer.base(matters)
            writer.invoices(info, plan.invoices)
            writer.events(info, plan.events)
            writer.tasks(info, plan.tasks)
            writer.notes(info, plan.notes)
            writer.audit(seed, matters, activities)
    finally:
        db.dispose()


def _next_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


@contextmanager
def _search_index_after(conn: Connection, table: Table) -> Iterator[int]:
    """Yield the first id the caller will write; index its new rows once, at the end.

    On SQLite, triggers keep each item table's trigram search index (migration 0004) in step,
    one row at a time, which would more than double the time of a million-row seed. Inside
    the caller's transaction they are set aside, the new rows are indexed in one statement,
    and the very same triggers are put back: another reader sees all of it or none.
    """
    first = _next_id(conn, table)
    index = f"search_{table.name}"
    triggers = (
        conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table.name},
        ).all()
        if conn.dialect.name == "sqlite"
        else []
    )
    ours = [(name, sql) for name, sql in triggers if name.startswith(f"{index}_")]
    for name, _sql in ours:
        conn.execute(text(f"DROP TRIGGER {name}"))
    yield first
    if not ours:
        return
    columns = [
        r[1] for r in conn.execute(text(f"PRAGMA table_info({index})")).all()
    ]  # the index's own columns, as the migration made it
    cols = ", ".join(columns)
    conn.execute(
        text(
            f"INSERT INTO {index}(rowid, {cols}) SELECT id, {cols} FROM {table.name} WHERE id >= :f"
        ),
        {"f": first},
    )
    for _name, sql in ours:
        conn.execute(text(sql))


# Progress -------------------------------------------------------------------------------------


def _progress_bar(enabled: bool, total: int) -> AbstractContextManager[Callable[[str, int], None]]:
    if not enabled:
        return nullcontext(lambda _label, _n: None)
    return _rich_bar(total)


@contextmanager
def _rich_bar(total: int) -> Iterator[Callable[[str, int], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # stderr, so the bar never mixes with output a script may read from stdout.
    with Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("Matters", total=total)

        def advance(label: str, n: int) -> None:
            bar.update(task, description=label, advance=n)

        yield advance


# Writing --------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, conn: Connection, rng: random.Random, advance: Callable[[str, int], None]):
        self.conn = conn
        self.rng = rng
        self.advance = advance
        self.is_pg = conn.dialect.name == "postgresql"
        self.staff_ids: list[int] = []
        self.firm_permissions: frozenset[Category] = ALL_CATEGORIES

    @contextmanager
    def _transaction(self, *tables: Table) -> Iterator[Connection]:
        """A step of the run's one transaction; on PostgreSQL also the tables' locks and
        sequence fix-up.

        SQLite's writer begins IMMEDIATE, which already keeps other writers out while we read
        max(id) and insert above it. PostgreSQL needs the explicit lock (held to the end of
        the transaction) for the same guarantee, and its serial sequences must then be moved
        past the ids we chose ourselves.
        """
        conn = self.conn
        if self.is_pg:
            for table in tables:
                conn.execute(text(f"LOCK TABLE {table.name} IN EXCLUSIVE MODE"))
        yield conn
        if self.is_pg:
            for table in tables:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                    )
                )

    @staticmethod
    def _next_id(conn: Connection, table: Table) -> int:
        return _next_id(conn, table)

    def _insert(self, conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH_ROWS):
            conn.execute(insert(table), rows[start : start + BATCH_ROWS])

    # Firm, staff, clients, matters ------------------------------------------------------------

    def base(self, matters: int) -> _MatterInfo:
        t_firm = _table(models.FirmSettings)
        t_staff = _table(models.StaffUser)
        t_clients = _table(models.Client)
        t_matters = _table(models.Matter)
        t_parties = _table(models.MatterParty)
        t_contacts = _table(models.PortalContact)
        rng = self.rng
        with self._transaction(t_staff, t_clients, t_matters, t_parties, t_contacts) as conn:
            self.firm_permissions = self._ensure_firm(conn, t_firm)
            self.staff_ids = self._ensure_staff(conn, t_staff)
            n_clients = max(1, round(matters / 1.5)) if matters else 0
            client_id0 = self._next_id(conn, t_clients)
            clients = [self._client_row(client_id0 + i) for i in range(n_clients)]
            self._insert(conn, t_clients, clients)

            taken = set(conn.execute(select(t_matters.c.number)).scalars())
            matter_id0 = self._next_id(conn, t_matters)
            info = _MatterInfo()
            matter_rows: list[dict[str, Any]] = []
            party_rows: list[dict[str, Any]] = []
            contact_rows: list[dict[str, Any]] = []
            party_id = self._next_id(conn, t_parties)
            contact_id = self._next_id(conn, t_contacts)
            weight = 0.0
            for i in range(matters):
                # Every client gets one matter first; the rest go to random clients, so some
                # clients have several (C4).
                client = clients[i] if i < n_clients else clients[rng.randrange(n_clients)]
                row, perms = self._matter_row(matter_id0 + i, client, taken)
                matter_rows.append(row)
                info.ids.append(row["id"])
                info.opened.append(row["opened_on"].toordinal())
                info.shareable.append(perms)
                # Heavy-tailed, so a few matters are busy, as in a real firm.
                weight += min(rng.paretovariate(1.2), 40.0)
                info.cum_weights.append(weight)
                if row["portal_enabled"]:
                    for staff_id in self.staff_ids:
                        access = (
                            PartyAccess.RESTRICTED if rng.random() < 0.1 else PartyAccess.ALLOWED
                        )
                        party_rows.append(
                            {
                                "id": party_id,
                                "matter_id": row["id"],
                                "staff_id": staff_id,
                                "access": access,
                            }
                        )
                        party_id += 1
                    if client["primary_email"]:
                        contact_rows.append(self._contact_row(contact_id, row, client))
                        contact_id += 1
            self._insert(conn, t_matters, matter_rows)
            self._insert(conn, t_parties, party_rows)
            self._insert(conn, t_contacts, contact_rows)
        self.advance("Matters", matters)
        return info

    def _ensure_firm(self, conn: Connection, table: Table) -> frozenset[Category]:
        row = conn.execute(select(table.c.portal_permissions)).first()
        if row is not None:
            return categories_from_names(row[0])
        defaults = f2_default_firm_portal()
        conn.execute(
            insert(table).values(
                id=1,
                name="Whitfield & Oyelaran LLP",
                portal_enabled=defaults.enabled,
                portal_permissions=categories_to_names(defaults.permissions),
                notify_new_items=defaults.notify_new_items,
                daily_digest=defaults.daily_digest,
                notify_staff_on_upload=defaults.notify_staff_on_upload,
                updated_at=datetime(2019, 1, 1, tzinfo=UTC),
            )
        )
        return defaults.permissions

    def _ensure_staff(self, conn: Connection, table: Table) -> list[int]:
        """The scale staff, added once: a second run reuses them rather than failing."""
        existing = {
            str(login): int(staff_id)
            for login, staff_id in conn.execute(select(table.c.login, table.c.id))
        }
        missing = [s for s in SCALE_STAFF if s[0] not in existing]
        if missing:
            next_id = self._next_id(conn, table)
            added = {login: next_id + i for i, (login, _name, _role) in enumerate(missing)}
            rows = [
                {
                    "id": added[login],
                    "login": login,
                    "name": name,
                    "email": f"{login}@whitfield-law.example",
                    "role": role,
                    "active": True,
                }
                for login, name, role in missing
            ]
            conn.execute(insert(table), rows)
            existing.update(added)
        return [existing[login] for login, _name, _role in SCALE_STAFF]

    def _client_row(self, client_id: int) -> dict[str, Any]:
        rng = self.rng
        last = rng.choice(LAST_NAMES)
        if rng.random() < 0.15:
            name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
            local = name.split()[0].lower()
            email = f"office@{local}{client_id}.example" if rng.random() < 0.9 else None
            birth = None
        else:
            first = rng.choice(FIRST_NAMES)
            name = f"{first} {last}"
            local = f"{first}.{last}".lower().replace("'", "")
            email = f"{local}{client_id}@example.com" if rng.random() < 0.9 else None
            birth = date.fromordinal(date(1940, 1, 1).toordinal() + rng.randrange(60 * 365))
        street = f"{rng.randrange(1, 2000)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}"
        return {
            "id": client_id,
            "name": name,
            "primary_email": email,
            "phone": f"(555) {rng.randrange(200, 1000)}-{rng.randrange(10000):04d}",
            "address": f"{street}, {rng.choice(CITIES)}",
            "date_of_birth": birth,
            "created_at": datetime(2019, 1, 1, 9, tzinfo=UTC)
            + timedelta(minutes=rng.randrange(6 * 365 * 24 * 60)),
        }

    def _matter_row(
        self, matter_id: int, client: dict[str, Any], taken: set[str]
    ) -> tuple[dict[str, Any], frozenset[Category]]:
        rng = self.rng
        # Matters open at least a month before "today", so each has room for past activities.
        opened = date.fromordinal(_START_ORD + rng.randrange(_REF_ORD - _START_ORD - 30))
        number = f"{opened.year}-{matter_id:05d}"
        while number in taken:  # only if someone typed numbers in this very style
            number += "S"
        taken.add(number)
        area = rng.choice(PRACTICE_AREAS)
        client_name: str = client["name"]
        company = client_name.endswith(COMPANY_KINDS)
        short = client_name if company else client_name.split()[-1]
        name = _matter_name(rng, area, client_name, short)
        roll = rng.random()
        status = (
            MatterStatus.OPEN
            if roll < 0.8
            else MatterStatus.PENDING
            if roll < 0.9
            else MatterStatus.CLOSED
        )
        portal = rng.random() < PORTAL_MATTER_RATE
        permissions: frozenset[Category] = frozenset()
        if portal:
            narrow = rng.random()
            permissions = self.firm_permissions
            if narrow < 0.1:
                permissions = permissions - {Category.DOCUMENTS}
            elif narrow < 0.2:
                permissions = permissions - {Category.FORMS}
        row = {
            "id": matter_id,
            "number": number,
            "name": name,
            "client_id": client["id"],
            "status": status,
            "practice_area": area,
            "description": None,
            "opened_on": opened,
            "portal_enabled": portal,
            # None: never turned ON, so turning it ON later starts from the firm's set (M2).
            "portal_permissions": categories_to_names(permissions) if portal else None,
            "created_at": datetime.combine(opened, time(9), tzinfo=UTC),
        }
        return row, permissions

    def _contact_row(
        self, contact_id: int, matter: dict[str, Any], client: dict[str, Any]
    ) -> dict[str, Any]:
        invited = datetime.combine(matter["opened_on"], time(10), tzinfo=UTC) + timedelta(
            days=self.rng.randrange(1, 30)
        )
        active = self.rng.random() < 0.6
        return {
            "id": contact_id,
            "matter_id": matter["id"],
            "client_id": client["id"],
            "name": client["name"],
            "email": client["primary_email"],
            "status": ContactStatus.ACTIVE if active else ContactStatus.INVITED,
            "invited_at": invited,
            "invitations_sent": 1,
            "activated_at": (
                invited + timedelta(hours=self.rng.randrange(1, 72)) if active else None
            ),
            "last_login_at": None,
            "version": 1,
        }

    # Activities -------------------------------------------------------------------------------

    def _kind(
        self,
        info: _MatterInfo,
        count: int,
        kind: ItemKind,
        table: Table,
        label: str,
        make_row: Callable[[int, int, date], dict[str, Any]],
        extra: Callable[[Connection, list[dict[str, Any]]], None] | None = None,
        extra_tables: tuple[Table, ...] = (),
        future: bool = False,
    ) -> None:
        """Write `count` items of one kind in one transaction, with their share marks.

        `make_row(item_id, matter_index, day)` builds one row; `extra` writes what hangs off a
        batch of rows (invoice lines). Items are dated within three years of the matter's
        opening, up to "today", or up to the window's end for the `future` kinds.
        """
        if count == 0:
            return
        rng = self.rng
        t_marks = _table(models.ShareMark)
        category = kind.category
        until = _END_ORD if future else _REF_ORD
        with (
            self._transaction(table, t_marks, *extra_tables) as conn,
            _search_index_after(conn, table) as first_id,
        ):
            item_id = first_id
            mark_id = self._next_id(conn, t_marks)
            indices = range(len(info.ids))
            done = 0
            while done < count:
                n = min(BATCH_ROWS, count - done)
                picks = rng.choices(indices, cum_weights=info.cum_weights, k=n)
                rows: list[dict[str, Any]] = []
                marks: list[dict[str, Any]] = []
                for idx in picks:
                    opened = info.opened[idx]
                    span = min(until - opened, 3 * 365)
                    day = date.fromordinal(opened + rng.randrange(max(span, 1)))
                    row = make_row(item_id, idx, day)
                    rows.append(row)
                    if category in info.shareable[idx] and rng.random() < SHARE_RATE:
                        if kind is ItemKind.INVOICE:
                            row["status"] = InvoiceStatus.FINAL  # S1: shared means Final
                        marks.append(self._mark_row(mark_id, kind, row, day))
                        mark_id += 1
                    item_id += 1
                conn.execute(insert(table), rows)
                if marks:
                    conn.execute(insert(t_marks), marks)
                if extra is not None:
                    extra(conn, rows)
                done += n
                self.advance(label, n)

    def _mark_row(
        self, mark_id: int, kind: ItemKind, row: dict[str, Any], day: date
    ) -> dict[str, Any]:
        return {
            "id": mark_id,
            "kind": kind,
            "item_id": row["id"],
            "matter_id": row["matter_id"],
            "wanted": True,
            "state": ShareState.SHARED,
            "version": 1,
            "shared_by_id": self.rng.choice(self.staff_ids[:4]),
            "shared_at": datetime.combine(day, time(15), tzinfo=UTC),
        }

    def invoices(self, info: _MatterInfo, count: int) -> None:
        rng = self.rng
        t_invoices = _table(models.Invoice)
        t_lines = _table(models.InvoiceLine)

        def make(item_id: int, idx: int, day: date) -> dict[str, Any]:
            final = rng.random() < 0.6
            total = rng.randrange(10, 50_000) * 50
            paid = 0
            if final and day.toordinal() < _REF_ORD:
                roll = rng.random()
                paid = total if roll < 0.6 else (total // 2 if roll < 0.75 else 0)
            return {
                "id": item_id,
                "matter_id": info.ids[idx],
                "number": f"S-{item_id:07d}",
                "issued_on": day,
                "due_on": day + timedelta(days=30),
                "status": InvoiceStatus.FINAL if final else InvoiceStatus.DRAFT,
                "total_cents": total,
                "paid_cents": paid,
                "memo": None,
            }

        line_ids = [0]

        def lines(conn: Connection, rows: list[dict[str, Any]]) -> None:
            if not line_ids[0]:
                line_ids[0] = self._next_id(conn, t_lines)
            out: list[dict[str, Any]] = []
            for row in rows:
                if row["id"] % INVOICE_LINES_EVERY:
                    continue
                out.extend(self._line_rows(line_ids[0] + len(out), row))
            if out:
                conn.execute(insert(t_lines), out)
                line_ids[0] += len(out)

        self._kind(info, count, ItemKind.INVOICE, t_invoices, "Invoices", make, lines, (t_lines,))

    def _line_rows(self, first_id: int, invoice: dict[str, Any]) -> list[dict[str, Any]]:
        """Lines that add up to the invoice's total: hours at a rate, then one expense line
        that also takes what the hours cannot divide evenly."""
        total = invoice["total_cents"]
        rate = self.rng.choice((15_000, 20_000, 25_000, 30_000, 35_000))
        fees_target = total - min(total // 10, self.rng.randrange(1, 40) * 500)
        hours_milli = fees_target * 1000 // rate
        fees = rate * hours_milli // 1000
        parts = [("Professional services", hours_milli, rate, fees)] if hours_milli else []
        expense = total - fees
        if expense:
            parts.append((self.rng.choice(INVOICE_LINE_TEXTS[1:]), 1000, expense, expense))
        return [
            {
                "id": first_id + pos,
                "invoice_id": invoice["id"],
                "position": pos,
                "description": desc,
                "quantity_milli": qty,
                "rate_cents": rate_c,
                "amount_cents": amount,
            }
            for pos, (desc, qty, rate_c, amount) in enumerate(parts)
        ]

    def events(self, info: _MatterInfo, count: int) -> None:
        rng = self.rng
        t_events = _table(models.CalendarEvent)

        def make(item_id: int, idx: int, day: date) -> dict[str, Any]:
            starts = datetime.combine(day, time(rng.randrange(8, 17), rng.choice((0, 30))), UTC)
            return {
                "id": item_id,
                "matter_id": info.ids[idx],
                "title": rng.choice(EVENT_TITLES),
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=rng.choice((30, 60, 60, 90, 120))),
                "location": rng.choice(LOCATIONS),
                "description": None,
            }

        self._kind(info, count, ItemKind.EVENT, t_events, "Events", make, future=True)

    def tasks(self, info: _MatterInfo, count: int) -> None:
        rng = self.rng
        t_tasks = _table(models.Task)
        assignees = self.staff_ids[:4]

        def make(item_id: int, idx: int, day: date) -> dict[str, Any]:
            return {
                "id": item_id,
                "matter_id": info.ids[idx],
                "title": rng.choice(TASK_TITLES),
                "due_on": day,
                "done": day.toordinal() < _REF_ORD and rng.random() < 0.85,
                "assignee_id": rng.choice(assignees) if rng.random() < 0.9 else None,
                "description": None,
            }

        self._kind(info, count, ItemKind.TASK, t_tasks, "Tasks", make, future=True)

    def notes(self, info: _MatterInfo, count: int) -> None:
        rng = self.rng
        t_notes = _table(models.Note)
        authors = self.staff_ids[:4]

        def make(item_id: int, idx: int, day: date) -> dict[str, Any]:
            return {
                "id": item_id,
                "matter_id": info.ids[idx],
                "subject": rng.choice(NOTE_SUBJECTS),
                "body": rng.choice(NOTE_BODIES),
                "author_id": rng.choice(authors),
                "created_at": datetime.combine(
                    day, time(rng.randrange(8, 19), rng.randrange(60)), UTC
                ),
            }

        self._kind(info, count, ItemKind.NOTE, t_notes, "Notes", make)

    def audit(self, seed: int, matters: int, activities: int) -> None:
        """One entry for the whole run: the audit trail says where the bulk data came from."""
        t_audit = _table(models.AuditEntry)
        with self._transaction() as conn:
            conn.execute(
                insert(t_audit).values(
                    actor="system",
                    action="seed_scale",
                    kind="firm",
                    after={"seed": seed, "matters": matters, "activities": activities},
                )
            )


def _table(model: type[models.Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _matter_name(rng: random.Random, area: str, client: str, surname: str) -> str:
    templates: Sequence[str]
    if area in ("Estate Planning", "Probate"):
        templates = ("Estate of {c}", "{s} Family Trust", "Will and powers of attorney – {c}")
    elif area == "Real Estate":
        templates = (
            "Purchase of {n} {st} {k}",
            "Sale of {n} {st} {k}",
            "Lease review – {c}",
        )
    elif area in ("Litigation", "Personal Injury", "Employment"):
        templates = ("{s} v. {o}", "{o} v. {s}", "{s} – claim against {o}")
    elif area == "Family Law":
        templates = ("Divorce – {s}", "Custody – {s}", "Prenuptial agreement – {c}")
    else:
        templates = ("{c} – {a}", "{a} matter for {c}", "{c} – general counsel")
    return rng.choice(templates).format(
        c=client,
        s=surname,
        o=rng.choice(OPPONENTS),
        a=area,
        n=rng.randrange(1, 999),
        st=rng.choice(STREETS),
        k=rng.choice(STREET_KINDS),
    )
