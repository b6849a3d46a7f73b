"""The import benchmark (`python -m bench --only import`): a firm's 100,000-row exports —
clients, then matters of those clients, then invoices of those matters — brought in by the
real command (`portal-tui import … --apply`, a process of its own on a fresh SQLite firm), and
the same clients file again (every row already there). Each figure is rows per second against
the target of 5,000; beside it, as a floor, the same file only read into records in this
process (`imports.tabular`), which no import can beat."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .results import MET, MISSED, Figure, Samples, median, not_measured

TARGET = 5_000.0  # rows per second
ADMIN = "admin"


@dataclass
class Options:
    rows: int  # rows of each file
    reps: int


def write_files(folder: Path, rows: int) -> dict[str, Path]:
    """The three exports, as a practice-management system writes them."""
    clients = folder / "clients.csv"
    with clients.open("w", encoding="utf-8") as f:
        f.write("Client ID,Display Name,Email,Phone\n")
        for n in range(rows):
            f.write(f"C-{n:06d},Client {n} Byrne,client{n}@example.test,+1 555 {n:07d}\n")
    matters = folder / "matters.csv"
    with matters.open("w", encoding="utf-8") as f:
        f.write("Matter Number,Matter Name,Client ID,Practice Area,Status,Open Date\n")
        for n in range(rows):
            f.write(f"M-{n:06d},Estate of {n},C-{n:06d},Probate,Open,2026-01-{n % 28 + 1:02d}\n")
    invoices = folder / "invoices.csv"
    with invoices.open("w", encoding="utf-8") as f:
        f.write("Invoice Number,Matter,Invoice Date,Total,Status\n")
        for n in range(rows):
            f.write(f"I-{n:06d},M-{n:06d},2026-11-01,{n % 900 + 100}.50,Final\n")
    return {"clients": clients, "matters": matters, "invoices": invoices}


def _new_firm(folder: Path) -> dict[str, str]:
    """A fresh firm with its Admin; the environment the command runs in."""
    from portal_tui.repository import Repository

    url = f"sqlite:///{folder / 'firm.db'}"
    repo = Repository.open(url)
    try:
        repo.init_firm("Hale & Forde LLP", ADMIN, "Ada Admin", "admin@firm.test")
    finally:
        repo.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_TUI_")}
    env |= {
        "PORTAL_TUI_DATABASE_URL": url,
        "PORTAL_TUI_DATA_DIR": str(folder / "data"),
        "PORTAL_TUI_CONFIG": str(folder / "config.toml"),
        "PORTAL_TUI_STAFF_USER": ADMIN,
    }
    return env


def _timed_import(env: dict[str, str], what: str, path: Path) -> float:
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "portal_tui", "import", what, str(path), "--apply"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"import {what} failed: {run.stderr.strip()[:300]}")
    return elapsed


def _read_alone(what: str, path: Path) -> float:
    from portal_tui.imports import tabular

    read = {
        "clients": tabular.read_clients,
        "matters": tabular.read_matters,
        "invoices": tabular.read_invoices,
    }[what]
    started = time.perf_counter()
    read(path.read_text(encoding="utf-8-sig")).checked(path.name)
    return time.perf_counter() - started


FIGURES = (
    ("clients", "Import: clients CSV"),
    ("matters", "Import: matters CSV"),
    ("invoices", "Import: invoices CSV"),
    ("again", "Import: the clients file again"),
)


def run(options: Options, log: Callable[[str], None]) -> list[Figure]:
    times: dict[str, Samples] = {key: Samples() for key, _ in FIGURES}
    floors: dict[str, Samples] = {key: Samples() for key, _ in FIGURES}
    root = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        log(f"import: writing three files of {options.rows:,} rows")
        paths = write_files(root, options.rows)
        for rep in range(options.reps):
            folder = root / f"run{rep}"
            folder.mkdir()
            env = _new_firm(folder)
            # Alternating, side by side: the file read alone, then the import of it.
            for key in ("clients", "matters", "invoices", "again"):
                what = "clients" if key == "again" else key
                floors[key].add(_read_alone(what, paths[what]))
                try:
                    elapsed = _timed_import(env, what, paths[what])
                except RuntimeError as exc:
                    times[key].fail(str(exc))
                    continue
                times[key].add(elapsed)
                log(f"import {rep + 1}/{options.reps}: {key} {options.rows / elapsed:,.0f} rows/s")
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return [_figure(name, options.rows, times[key], floors[key]) for key, name in FIGURES]


def _figure(name: str, rows: int, times: Samples, floor: Samples) -> Figure:
    target = f">= {TARGET:,.0f} rows/s ({rows:,} rows)"
    if not times:
        return not_measured(name, target, times.failures[0] if times.failures else "not run")
    # The slowest run is the one the target must hold for.
    slowest = max(times.values)
    rate = rows / slowest
    out = Figure(
        name,
        target,
        measured=f"min {rate:,.0f} rows/s (median {rows / median(times.values):,.0f}; "
        f"{slowest:.1f} s) n={len(times.values)}",
        baseline=f"target {TARGET:,.0f} rows/s",
        ratio=f"{rate / TARGET:.2f}x",
        verdict=MET if rate >= TARGET else MISSED,
        note=f"the file read alone, no database: median {rows / median(floor.values):,.0f} rows/s"
        if floor
        else "",
    )
    if times.failures:
        out.note += f"; {len(times.failures)} failed"
    return out
