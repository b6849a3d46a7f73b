"""The databases the many-staff benchmarks run on: a SQLite file, and PostgreSQL when an admin
URL is given (`--pg-url` or PORTAL_TUI_BENCH_PG_URL), in which each run creates a database of
its own and drops it afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import data

PG_URL_ENV = "PORTAL_TUI_BENCH_PG_URL"
NO_PG = f"no PostgreSQL URL given (--pg-url or {PG_URL_ENV})"


@dataclass(frozen=True, slots=True)
class Engine:
    """SQLite (`pg_admin` empty) or the PostgreSQL server named by `pg_admin`."""

    label: str
    pg_admin: str = ""

    @property
    def is_sqlite(self) -> bool:
        return not self.pg_admin


SQLITE = Engine("SQLite")


def engines(pg_url: str | None) -> list[Engine | None]:
    """SQLite, then PostgreSQL, or None in its place (its rows say n/a) when no URL was given."""
    url = pg_url if pg_url is not None else os.environ.get(PG_URL_ENV, "")
    return [SQLITE, Engine("PostgreSQL", url) if url else None]


@contextmanager
def database(engine: Engine, folder: Path, name: str) -> Iterator[str]:
    """A fresh, empty database on `engine` for one run: `folder/name.db` (removed first), or a
    PostgreSQL database of its own, dropped afterwards whatever happened."""
    if engine.is_sqlite:
        path = folder / f"{name}.db"
        data.remove_sqlite(path)
        folder.mkdir(parents=True, exist_ok=True)
        yield data.sqlite_url(path)
        return
    from sqlalchemy import create_engine, text

    from portal_tui.database import normalise_url

    admin_url = normalise_url(engine.pg_admin)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    db_name = f"bench_{name}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        try:
            yield admin_url.set(database=db_name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
    finally:
        admin.dispose()
