"""`portal-tui backup` and `portal-tui restore`: a consistent copy of the firm database taken
while staff work, and putting one back.

SQLite: the online backup API copies a consistent snapshot while others write (readers never
wait in WAL mode); the copy is checked (PRAGMA integrity_check) before it takes its name, so a
half-written file never looks like a backup. PostgreSQL: pg_dump, which reads one snapshot;
restore with pg_restore. Both write 0600 files in 0700 folders.

A restore refuses while any app or sync has the firm open (presence.alone), keeps a copy of
the database it replaces, and then makes the restored firm the portal's truth again
(Repository.after_restore: a new epoch, the portal's reset, everything sent again).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from portal_tui.database import Database, describe_location, sqlite_file
from portal_tui.migrating import DatabaseUnavailableError, StoreError
from portal_tui.private import private_folder
from portal_tui.store.revision import VERSION_TABLE

BACKUPS_FOLDER = "backups"
_SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(StoreError):
    """A backup or restore that could not be done; nothing was changed. One line."""


@dataclass(frozen=True, slots=True)
class BackupMade:
    path: Path
    size: int
    counts: dict[str, int]


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _private_folder(folder: Path) -> None:
    private_folder(folder)


def default_target(data_dir: Path, db: Database, stem: str = "firm") -> Path:
    suffix = ".db" if db.is_sqlite else ".dump"
    return data_dir / BACKUPS_FOLDER / f"{stem}-{_stamp()}{suffix}"


def _target(path: Path | None, data_dir: Path, db: Database, *, into_folder: bool) -> Path:
    if path is None:
        return default_target(data_dir, db)
    if into_folder or path.is_dir():
        return path / default_target(data_dir, db).name
    return path


def backup(
    db: Database, path: Path | None, data_dir: Path, *, into_folder: bool = False
) -> BackupMade:
    """A consistent copy of the firm database at `path` (a file; a folder, existing or with
    `into_folder`; or None: the data folder's backups/), taken while others keep working."""
    target = _target(path, data_dir, db, into_folder=into_folder)
    if target.exists():
        raise BackupError(f"{target} exists already; name a new file or a folder.")
    _private_folder(target.parent)
    partial = target.with_name(target.name + ".partial")
    try:
        counts = _sqlite_copy(db, partial) if db.is_sqlite else _pg_dump(db, partial)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except OSError as exc:
        raise BackupError(f"could not write the backup {target}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupMade(target, target.stat().st_size, counts)


def _sqlite_source(db: Database) -> Path:
    path = sqlite_file(db.url)
    if path is None or not path.is_file():
        raise BackupError(f"There is no firm database at {describe_location(db.url)} to back up.")
    return path


def _sqlite_copy(db: Database, partial: Path) -> dict[str, int]:
    source_path = _sqlite_source(db)
    try:
        source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            dest = sqlite3.connect(partial)
            try:
                # One step (pages=-1): a single consistent snapshot, however busy the firm.
                source.backup(dest)
                ok = dest.execute("PRAGMA integrity_check").fetchone()[0]
                if ok != "ok":
                    raise BackupError(f"the copy failed its integrity check ({ok}); try again")
                counts = _counts(dest)
                dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                dest.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise BackupError(f"could not copy {source_path}: {exc}") from exc
    return counts


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    found: dict[str, int] = {}
    for table in ("matters", "share_marks", "audit_trail", "outbox"):
        try:
            found[table] = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        except sqlite3.Error:
            continue
    return found


def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: on the PATH, or where Debian puts the server's."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=_major)
    if versions:
        return str(versions[-1])
    raise BackupError(
        f"{name} is needed to back up or restore a PostgreSQL firm database and was not found; "
        "install PostgreSQL's client programs (Debian: apt install postgresql-client)."
    )


def _major(path: Path) -> int:
    try:
        return int(path.parent.parent.name)
    except ValueError:
        return 0


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, which goes in the environment
    instead (never on a command line, where `ps` shows it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    bare = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return bare.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"could not run {command[0]}: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{what} failed: {lines[-1] if lines else done.returncode}")


def _pg_dump(db: Database, partial: Path) -> dict[str, int]:
    conninfo, env = _libpq(db.url)
    # --format=custom: compressed, and what pg_restore --clean takes back.
    command = [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial)]
    _run([*command, conninfo], env, "pg_dump")
    return {}


# Restore --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackupInfo:
    firm_id: str | None
    name: str
    epoch: int


def _sqlite_backup_info(path: Path) -> BackupInfo:
    try:
        with open(path, "rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head != _SQLITE_MAGIC:
        raise BackupError(f"{path} is not a portal-tui backup (not an SQLite database).")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            revision = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
            columns = {row[1] for row in conn.execute("PRAGMA table_info(firm_settings)")}
            wanted = "name, firm_uuid, epoch" if "epoch" in columns else "name, NULL, 1"
            firm = conn.execute(f"SELECT {wanted} FROM firm_settings WHERE id = 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not a portal-tui firm backup ({exc}).") from exc
    if revision is None or firm is None:
        raise BackupError(f"{path} is not a portal-tui firm backup (it holds no firm).")
    if str(revision[0]) not in _known_revisions():
        raise BackupError(
            f"{path} was written by a newer portal-tui (schema revision {revision[0]}); "
            "upgrade portal-tui to restore it."
        )
    return BackupInfo(firm[1], str(firm[0]), int(firm[2] or 1))


def _known_revisions() -> set[str]:
    from portal_tui.store.migrate import MIGRATIONS_DIR

    return {path.stem for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py")}


def live_identity(db: Database) -> BackupInfo | None:
    """Who the database about to be replaced holds, if it can be read at all (read as it is:
    nothing is created or upgraded on the way)."""
    path = sqlite_file(db.url) if db.is_sqlite else None
    if db.is_sqlite and (path is None or not path.is_file() or not path.stat().st_size):
        return None
    try:
        with db.reader.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT name, firm_uuid, epoch FROM firm_settings WHERE id = 1"
            ).first()
    except DBAPIError:
        return None
    if found is None:
        return None
    return BackupInfo(found[1], str(found[0]), int(found[2]))


def check_same_firm(backup_info: BackupInfo, live: BackupInfo | None) -> None:
    if live is None or backup_info.firm_id is None or live.firm_id is None:
        return
    if backup_info.firm_id != live.firm_id:
        raise BackupError(
            f'That backup is of another firm ("{backup_info.name}", id {backup_info.firm_id}) '
            f'than the database it would replace ("{live.name}", id {live.firm_id}); move that '
            "database away first if this is really meant."
        )


def restore_sqlite(db: Database, source: Path, keep_dir: Path) -> Path | None:
    """Put the backup's content in place of the firm database (a copy of which is kept in
    `keep_dir` first); returns where that copy is."""
    target = sqlite_file(db.url)
    assert target is not None
    kept = None
    if target.is_file() and target.stat().st_size:
        kept = keep_dir / f"before-restore-{_stamp()}.db"
        _private_folder(keep_dir)
        _copy_sqlite(target, kept)
    private_folder(target.parent)
    try:
        source_conn = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
        try:
            dest = sqlite3.connect(target, timeout=30)
            try:
                # The backup API writes the whole file in one transaction of the destination:
                # the firm is either as it was or as the backup, never half of each.
                source_conn.backup(dest)
            finally:
                dest.close()
        finally:
            source_conn.close()
        os.chmod(target, 0o600)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"could not restore {source} to {target}: {exc}") from exc
    return kept


def _copy_sqlite(source: Path, dest: Path) -> None:
    try:
        src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            out = sqlite3.connect(dest)
            try:
                src.backup(out)
            finally:
                out.close()
        finally:
            src.close()
        os.chmod(dest, 0o600)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"could not keep a copy of {source} before restoring: {exc}") from exc


def restore_pg(db: Database, source: Path, keep_dir: Path) -> Path:
    if not source.is_file():
        raise BackupError(f"There is no backup at {source}.")
    conninfo, env = _libpq(db.url)
    _run([pg_tool("pg_restore"), "--list", str(source)], env, f"reading {source}")
    kept = keep_dir / f"before-restore-{_stamp()}.dump"
    _private_folder(keep_dir)
    _run(
        [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(kept), conninfo],
        env,
        "keeping a copy of the database before restoring",
    )
    os.chmod(kept, 0o600)
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            conninfo,
            str(source),
        ],
        env,
        f"restoring {source}",
    )
    return kept


def backup_info(db: Database, source: Path) -> BackupInfo | None:
    """What the backup holds (SQLite); None for a PostgreSQL dump (read once restored)."""
    if not source.is_file():
        raise BackupError(f"There is no backup at {source}.")
    if db.is_sqlite:
        return _sqlite_backup_info(source)
    return None


__all__ = [
    "BackupError",
    "BackupMade",
    "DatabaseUnavailableError",
    "backup",
    "backup_info",
    "check_same_firm",
    "live_identity",
    "restore_pg",
    "restore_sqlite",
]
