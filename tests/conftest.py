"""Shared fixtures: a fresh firm database on SQLite and on a real PostgreSQL server.

PostgreSQL comes from PORTAL_TUI_TEST_PG_URL (an admin URL; `.ci/run` starts a server and
sets it). Without it the PostgreSQL half is skipped locally, and fails under CI, where a
silent skip would hide a whole backend.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("PORTAL_TUI_TEST_PG_URL", "")

# The folders tests make for the app (data folders, homes) are made as a careful firm makes
# them, private: else every command would warn that others can read them. The file-mode tests
# (test_private_files.py) start the app with a usual umask of their own.
os.umask(0o077)


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from portal_tui.database import normalise_url

    return create_engine(normalise_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_admin():  # type: ignore[no-untyped-def]
    if not PG_ADMIN_URL:
        if os.environ.get("CI"):
            pytest.fail("PORTAL_TUI_TEST_PG_URL is not set under CI: .ci/run must start PostgreSQL")
        pytest.skip("PostgreSQL not configured (set PORTAL_TUI_TEST_PG_URL)")
    engine = _pg_admin_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import text

    from portal_tui.database import normalise_url

    name = f"pt_{uuid.uuid4().hex[:16]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(PG_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'firm.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'firm.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="session")
def pg_template(pg_admin) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A PostgreSQL database migrated once per session, copied for each test that needs a
    schema (CREATE DATABASE … TEMPLATE is far quicker than migrating every time)."""
    from sqlalchemy import text

    from portal_tui.database import Database, normalise_url
    from portal_tui.store.migrate import ensure_current

    name = f"pt_tmpl_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(normalise_url(PG_ADMIN_URL).set(database=name))
    ensure_current(db)
    db.dispose()
    yield name
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A firm database with the current schema, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'firm.db'}"
        return
    from sqlalchemy import text

    from portal_tui.database import normalise_url

    admin = request.getfixturevalue("pg_admin")
    template = request.getfixturevalue("pg_template")
    name = f"pt_{uuid.uuid4().hex[:16]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield normalise_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class OwnPostgres:
    """A PostgreSQL server of a test's own, to stop and start under a running app: the
    suite's shared server must keep running for every other test."""

    bin: Path
    data: Path
    port: int
    as_owner: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data.parent} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._ctl(
            "-l", str(self.data.parent / "server.log"), "-w", "-t", "60", "start", "-o", options
        )

    def stop(self) -> None:
        """As an administrator restarting it would: `pg_ctl stop -m fast`."""
        self._ctl("-m", "fast", "-w", "stop")


@pytest.fixture
def own_postgres(pg_admin) -> Iterator[OwnPostgres]:  # type: ignore[no-untyped-def]
    """Needs the PostgreSQL server programs, which CI installs (.ci/run) with the shared one."""
    import pwd
    import shutil
    import socket
    import tempfile

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found and shutil.which("initdb"):
        found = [Path(str(shutil.which("initdb")))]
    if not found:
        pytest.fail("initdb not found: the PostgreSQL server programs are needed")
    pg_bin = found[-1].parent
    # Short, under /tmp: the socket path must stay short, and the server's user must reach it.
    root = Path(tempfile.mkdtemp(prefix="pt-own-pg-", dir="/tmp"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    subprocess.run(
        [
            *as_owner,
            str(pg_bin / "initdb"),
            f"--pgdata={data}",
            "--username=postgres",
            "--auth=trust",
            "--no-sync",
            "--no-locale",
            "--encoding=UTF8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = OwnPostgres(pg_bin, data, port, as_owner)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            server._ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
