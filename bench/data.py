"""The benchmark data, built once per size and kept under bench/data/ (ignored by git).

    bench/data/m10000-a1000000-s1/
        firm.db        seed_scale's firm; the app under the pty and the in-process reads use it
        app/           the app's data folder (its embedded portal lives there)
        primed/        a copy of the firm with everything it shares delivered to a portal
                       service (firm.db, portal.db, data/): the start of the service benchmarks
        work/          scratch copies for one run of the service benchmarks (they write)

Each part is written to a temporary name and marked done only when complete, so an interrupted
build starts that part afresh next time.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA_ROOT = Path(__file__).resolve().parent / "data"
REPO_ROOT = Path(__file__).resolve().parent.parent
READY = ".ready"

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Size:
    matters: int
    activities: int
    seed: int = 1

    @property
    def name(self) -> str:
        return f"m{self.matters}-a{self.activities}-s{self.seed}"

    @property
    def folder(self) -> Path:
        return DATA_ROOT / self.name

    @property
    def firm(self) -> Path:
        return self.folder / "firm.db"

    @property
    def app_dir(self) -> Path:
        return self.folder / "app"

    @property
    def primed(self) -> Path:
        return self.folder / "primed"

    @property
    def work(self) -> Path:
        return self.folder / "work"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def is_ready(path: Path) -> bool:
    return (path.parent / f"{path.name}{READY}").exists()


def mark_ready(path: Path) -> None:
    (path.parent / f"{path.name}{READY}").write_text(f"{time.ctime()}\n", encoding="utf-8")


def remove_sqlite(path: Path) -> None:
    for extra in ("", "-wal", "-shm", ".migrate.lock", READY):
        Path(f"{path}{extra}").unlink(missing_ok=True)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included), through SQLite's backup API."""
    remove_sqlite(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=65536)
        finally:
            dst.close()
    finally:
        src.close()


def warm(path: Path) -> None:
    """Read a file through once, so the first measured run does not pay for a cold disk."""
    with path.open("rb") as f:
        while f.read(1 << 22):
            pass


def ensure_firm(size: Size, log: Log) -> Path:
    """The seeded firm database of `size`, built with seed_scale if it is not there yet."""
    firm = size.firm
    if firm.exists() and is_ready(firm):
        return firm
    from portal_tui.seed.scale import seed_scale

    size.folder.mkdir(parents=True, exist_ok=True)
    # A firm seeded anew invalidates everything built from the old one.
    shutil.rmtree(size.app_dir, ignore_errors=True)
    shutil.rmtree(size.primed, ignore_errors=True)
    remove_sqlite(firm)
    building = firm.with_name("firm.building.db")
    remove_sqlite(building)
    log(f"seeding {size.matters:,} matters and {size.activities:,} activities (seed {size.seed})")
    started = time.perf_counter()
    seed_scale(sqlite_url(building), size.matters, size.activities, size.seed, progress=False)
    copy_sqlite(building, firm)  # checkpointed, without -wal/-shm beside it
    remove_sqlite(building)
    mark_ready(firm)
    log(f"seeded in {time.perf_counter() - started:.1f} s: {firm} ({firm.stat().st_size >> 20} MB)")
    return firm


def clean_env(root: Path, **settings: str) -> dict[str, str]:
    """The environment of a program the benchmarks start: none of the developer's own
    settings (config and data folder under `root`), UTC, UTF-8, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))}
    env.pop("NO_COLOR", None)
    return {
        **env,
        "HOME": str(root),
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "PORTAL_TUI_CONFIG": str(root / "config.toml"),
        "PORTAL_TUI_DATA_DIR": str(root / "data"),
        "PYTHONIOENCODING": "utf-8",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        **settings,
    }


def venv_script(name: str) -> str:
    """A console script of the interpreter running the benchmarks (its venv's bin folder)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install the project into this venv first")
    return str(path)
