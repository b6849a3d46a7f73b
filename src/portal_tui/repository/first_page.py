"""The staff app's first screen, read with the standard library's sqlite3 alone: who is working,
the firm's name and the first page of the Matters list — exactly what `current_staff`,
`firm_name` and `list_matters()` would give — while SQLAlchemy and the Repository load behind
it (cold start to the first matter row <= 2.5x a bare Textual app: importing them takes longer
than everything else on the way to the first row).

Only a plain SQLite file already at this build's schema revision, opened without waiting, with
an active staff user, is read here. Anything else (PostgreSQL, a file that is missing, behind
or ahead of this build, locked, not in WAL mode, or holding a value the models would refuse)
gives None, and the app takes its usual path, which upgrades, waits or says what is wrong.

This module must not import SQLAlchemy (tests/test_boundaries.py holds it to that): it shares
the row builder with `list_matters`, and tests/repository/test_first_page.py holds its SQL to
the statement `list_matters` sends.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal_tui.domain.records import MatterRow, Page, StaffRow
from portal_tui.domain.states import MatterStatus, StaffRole
from portal_tui.store.revision import HEAD_REVISION, VERSION_TABLE

# `sqlite:///path` as SQLAlchemy reads it, and nothing that it would read differently: no
# query string (`?mode=...`, `?uri=true`), no %-escapes, no control characters.
_PLAIN_FILE_URL = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<path>[^?%\x00-\x1f]+)")

# The first page of `list_matters()` with no filter, as SQLAlchemy compiles it for SQLite; a
# test compares the two, so a change there (a column, a join, a rule) fails until made here.
MATTERS_FIRST_PAGE_SQL = (
    "SELECT matters.id, matters.number, matters.name, matters.client_id, matters.status, "
    "matters.portal_enabled, clients.name AS client_name, staff_users.name AS responsible_name "
    "\nFROM matters JOIN clients ON clients.id = matters.client_id "
    "LEFT OUTER JOIN staff_users ON staff_users.id = matters.responsible_id "
    "ORDER BY matters.number DESC, matters.id DESC\n"
    " LIMIT ? OFFSET ?"
)
_STAFF_SQL = "SELECT id, login, name, email, role, active FROM staff_users WHERE login = ?"
_FIRM_SQL = "SELECT name FROM firm_settings WHERE id = 1"

# A reader waits for a writer only in rare moments (WAL recovery); the usual path waits.
_BUSY_TIMEOUT_S = 0.1
# How many rows the Matters list asks for first (its ItemTable's PAGE; a test holds the two
# equal: a longer page is served from the repository, a shorter one cut from this).
FIRST_PAGE_ROWS = 100
# paging.MAX_LIMIT, which list_matters clamps a page to (the test holds the two equal).
MAX_LIMIT = 1000


def matter_row(
    id: int,
    number: str,
    name: str,
    client_id: int,
    client_name: str,
    status: str,
    portal_enabled: bool | int,
    responsible_name: str | None = None,
) -> MatterRow:
    """One row of the Matters list, for `list_matters` and for the first page alike."""
    return MatterRow(
        id=id,
        number=number,
        name=name,
        client_id=client_id,
        client_name=client_name,
        status=MatterStatus(status),
        portal_enabled=bool(portal_enabled),
        key=(number, id),
        responsible_name=responsible_name,
    )


@dataclass(frozen=True, slots=True)
class FirstPage:
    """What the app shows first. `staff` is None for the built-in system actor (no login)."""

    staff: StaffRow | None
    firm_name: str
    matters: Page[MatterRow]
    limit: int  # the page size it was read with


def sqlite_file(url: str) -> Path | None:
    """The file behind a plain `sqlite:///path` URL; None for anything else."""
    found = _PLAIN_FILE_URL.fullmatch(url)
    if found is None:
        return None
    database = found.group("path")
    if database == ":memory:" or database.startswith("file:"):
        return None
    return Path(os.path.abspath(database))  # as SQLAlchemy's pysqlite dialect does


def read_first_page(url: str, staff_login: str | None, limit: int) -> FirstPage | None:
    """The first screen's data, or None when the usual path must open the database."""
    limit = max(1, min(limit, MAX_LIMIT))
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    try:
        # mode=rw: never creates the file; nothing here writes.
        conn = sqlite3.connect(
            f"{path.as_uri()}?mode=rw",
            uri=True,
            timeout=_BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error:
        return None
    try:
        return _read(conn, staff_login, limit)
    except (sqlite3.Error, ValueError, TypeError, LookupError):
        # Whatever it is, the usual path meets it too and says so in its own words.
        return None
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, staff_login: str | None, limit: int) -> FirstPage | None:
    # The Repository switches a new file to WAL on its first connection (a write): leave
    # that, and a file that cannot be switched, to it.
    if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        return None
    conn.execute("BEGIN")  # one snapshot for the four reads
    try:
        revisions = sorted(
            str(r[0]) for r in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}")
        )
        if revisions != [HEAD_REVISION]:
            return None
        staff = None
        if staff_login is not None:
            staff = _staff(conn.execute(_STAFF_SQL, (staff_login,)).fetchone())
            if staff is None:
                return None  # unknown or inactive: the usual path refuses it (R1)
        firm = conn.execute(_FIRM_SQL).fetchone()
        fetched: list[Any] = conn.execute(MATTERS_FIRST_PAGE_SQL, (limit + 1, 0)).fetchall()
    finally:
        conn.execute("COMMIT")
    rows = tuple(
        matter_row(id, number, name, client_id, client_name, status, enabled, responsible)
        for id, number, name, client_id, status, enabled, client_name, responsible in fetched[
            :limit
        ]
    )
    page = Page(rows, more_before=False, more_after=len(fetched) > limit)
    return FirstPage(staff, str(firm[0]) if firm is not None else "", page, limit)


def _staff(found: Any) -> StaffRow | None:
    if found is None:
        return None
    id, login, name, email, role, active = found
    if not active:
        return None
    return StaffRow(id, login, name, email, StaffRole(role), True)
