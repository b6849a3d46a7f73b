"""The first page read with sqlite3 alone (cold start to the first matter row <= 2.5x a bare
Textual app): it must be exactly what the
Repository gives — `current_staff`, `firm_name` and the first page of `list_matters()` — and
give None, for the app to take its usual path, whenever the Repository might answer otherwise
(another schema revision, another database, a staff user it would refuse, a locked file)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from portal_tui.domain import StaffRole
from portal_tui.repository import Repository
from portal_tui.repository import first_page as fp
from portal_tui.repository.first_page import FirstPage, read_first_page, sqlite_file
from portal_tui.repository.paging import MAX_LIMIT
from portal_tui.seed.demo import seed_demo
from portal_tui.seed.scale import seed_scale
from portal_tui.store.migrate import HEAD_REVISION

PG_URL = os.environ.get("PORTAL_TUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/x")


def expected(url: str, login: str | None, limit: int) -> FirstPage:
    """What the app's usual path shows first, through the Repository."""
    repo = Repository.open(url, login)
    try:
        return FirstPage(
            repo.current_staff(), repo.firm_name(), repo.list_matters(limit=limit), limit
        )
    finally:
        repo.close()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'firm.db'}"
    seed_demo(url)
    return url


@pytest.fixture(scope="module")
def scale_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('scale') / 'firm.db'}"
    seed_scale(url, 240, 600, seed=3, progress=False)
    return url


@pytest.fixture
def small_url(tmp_path: Path) -> str:
    """A firm of three matters and one staff user per role, made through the Repository."""
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    repo = Repository.open(url)
    repo.setup_firm("Hale & Forde LLP")
    for role in StaffRole:
        repo.add_staff(role.value, f"{role.label} User", f"{role.value}@firm.test", role)
    client = repo.add_client("Smith [Deceased]")
    for number in ("2026-0002", "2026-0010", "2026-0001"):
        repo.add_matter(client, number=number, name=f"Estate {number}")
    repo.close()
    return url


def sql(url: str, *statements: str) -> None:
    path = sqlite_file(url)
    assert path is not None
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


# The same rows --------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 7, 100, 1000])
def test_demo_firm_first_page_is_what_the_repository_gives(demo_url: str, limit: int) -> None:
    repo = Repository.open(demo_url)
    logins = [staff.login for staff in repo.list_staff()]
    repo.close()
    for login in [*logins, None]:
        assert read_first_page(demo_url, login, limit) == expected(demo_url, login, limit)


@pytest.mark.parametrize("limit", [50, 100, 239, 240, 241])
def test_seeded_firm_first_page_is_what_the_repository_gives(scale_url: str, limit: int) -> None:
    first = read_first_page(scale_url, "scale.admin", limit)
    assert first == expected(scale_url, "scale.admin", limit)
    assert first is not None and first.matters.more_after is (limit < 240)
    assert first.matters.rows[0].number > first.matters.rows[-1].number  # newest number first


def test_the_limit_is_held_to_what_list_matters_allows(small_url: str) -> None:
    assert fp.MAX_LIMIT == MAX_LIMIT
    none = read_first_page(small_url, None, 0)
    assert none is not None and none.limit == 1
    assert none.matters == expected(small_url, None, 0).matters  # one row, as list_matters
    wide = read_first_page(small_url, None, MAX_LIMIT + 5)
    assert wide is not None and wide.limit == MAX_LIMIT


def test_client_data_comes_back_as_written_and_rows_page_on_as_the_list_does(
    small_url: str,
) -> None:
    first = read_first_page(small_url, "admin", 2)
    assert first is not None
    assert [r.number for r in first.matters.rows] == ["2026-0010", "2026-0002"]
    assert first.matters.rows[0].client_name == "Smith [Deceased]"
    # The key a row carries pages on through the Repository like one of its own.
    repo = Repository.open(small_url)
    after = repo.list_matters(after=first.matters.rows[-1].key, limit=2)
    repo.close()
    assert [r.number for r in after.rows] == ["2026-0001"]


def test_its_sql_is_the_statement_list_matters_sends(small_url: str) -> None:
    """If list_matters changes (a column, a join, a rule on who sees what), this fails until
    first_page.py says the same."""
    repo = Repository.open(small_url)
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append(statement)

    event.listen(repo.db.reader, "before_cursor_execute", seen)
    try:
        repo.list_matters(limit=100)
    finally:
        repo.close()
    assert sent == [fp.MATTERS_FIRST_PAGE_SQL]


def test_a_firm_without_its_settings_row_has_no_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    Repository.open(url).close()
    first = read_first_page(url, None, 100)
    assert first == expected(url, None, 100)
    assert first is not None and first.firm_name == "" and first.matters.rows == ()


# The usual path instead ---------------------------------------------------------------------


@pytest.mark.parametrize("revision", ["0003_outbox_batch_index", "9999_from_a_newer_build"])
def test_another_schema_revision_takes_the_usual_path(small_url: str, revision: str) -> None:
    sql(small_url, f"UPDATE alembic_version SET version_num = '{revision}'")
    assert read_first_page(small_url, "admin", 100) is None


def test_a_database_never_migrated_takes_the_usual_path(small_url: str) -> None:
    sql(small_url, "DROP TABLE alembic_version")
    assert read_first_page(small_url, "admin", 100) is None


def test_the_head_revision_is_read_without_the_migration_machinery() -> None:
    from portal_tui.store import revision

    assert revision.HEAD_REVISION == HEAD_REVISION


@pytest.mark.parametrize(
    "url",
    [
        PG_URL,
        "postgresql://firm@db.example.com/firm",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:firm.db?mode=ro&uri=true",
        "sqlite:///firm.db?timeout=5",
        "sqlite:///fi%72m.db",
    ],
)
def test_anything_but_a_plain_sqlite_file_takes_the_usual_path(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "firm.db").write_bytes(b"")
    assert read_first_page(url, None, 100) is None


@pytest.mark.parametrize(
    "url",
    ["sqlite:///firm.db", "sqlite:////srv/firm data/a@b.db", "sqlite+pysqlite:///rel/x.db"],
)
def test_the_file_is_the_one_sqlalchemy_would_open(url: str) -> None:
    database = make_url(url).database
    assert database is not None
    assert sqlite_file(url) == Path(os.path.abspath(database))


def test_a_missing_file_is_left_to_the_usual_path_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    assert read_first_page(f"sqlite:///{path}", None, 100) is None
    assert not path.exists()


def test_a_file_that_is_not_a_database_takes_the_usual_path(tmp_path: Path) -> None:
    path = tmp_path / "firm.db"
    path.write_bytes(b"not a database, " * 512)
    assert read_first_page(f"sqlite:///{path}", None, 100) is None


@pytest.mark.parametrize("login", ["nobody", "inactive"])
def test_a_staff_user_the_repository_would_refuse_takes_the_usual_path(
    small_url: str, login: str
) -> None:
    sql(
        small_url,
        "INSERT INTO staff_users (login, name, email, role, active) "
        "VALUES ('inactive', 'Gone', 'gone@firm.test', 'normal', 0)",
    )
    assert read_first_page(small_url, login, 100) is None


def test_a_value_the_models_would_refuse_takes_the_usual_path(small_url: str) -> None:
    # (The CHECK constraint stands in the way of a bad value; a future build's value is the case.)
    sql(small_url, "PRAGMA ignore_check_constraints = ON", "UPDATE matters SET status = 'archived'")
    assert read_first_page(small_url, "admin", 100) is None


def test_a_file_not_in_wal_mode_is_left_to_the_repository(small_url: str) -> None:
    sql(small_url, "PRAGMA journal_mode = DELETE")
    assert read_first_page(small_url, "admin", 100) is None


def test_a_locked_file_takes_the_usual_path_without_waiting(small_url: str) -> None:
    path = sqlite_file(small_url)
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE firm_settings SET name = name")
        assert read_first_page(small_url, "admin", 100) is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert read_first_page(small_url, "admin", 100) == expected(small_url, "admin", 100)


def test_reading_writes_nothing(small_url: str) -> None:
    path = sqlite_file(small_url)
    assert path is not None
    repo = Repository.open(small_url)
    with repo.db.reader.connect() as conn:
        before = conn.execute(text("PRAGMA data_version")).scalar()
        assert read_first_page(small_url, "admin", 100) is not None
        after = conn.execute(text("PRAGMA data_version")).scalar()
    repo.close()
    assert before == after
