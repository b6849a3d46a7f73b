"""The progress line of a long import (docs/importing.md): on a terminal, once the import has
taken a second, one line rewritten in place with rising counts up to the whole file, ended
by a line break; nothing at all on a pipe. The repository only calls back (it prints nothing)."""

from __future__ import annotations

import io
from pathlib import Path

from portal_tui.imports.tabular import read_clients
from portal_tui.progress import ProgressLine, progress_line
from portal_tui.repository import Repository


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    """A second passes at each look: the bar is due at every call after the first."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_a_2000_row_import_shows_a_rising_progress_line_that_ends(tmp_path: Path) -> None:
    repo = Repository.open(f"sqlite:///{tmp_path / 'firm.db'}")
    repo.init_firm("Hale & Forde LLP", "ada", "Ada Admin", "ada@firm.test")
    admin = Repository(repo.db, "ada")
    rows = "".join(f"C-{n},Client {n},c{n}@example.test\n" for n in range(2_000))
    records = read_clients("Client ID,Name,Email\n" + rows).checked("clients.csv")
    terminal = _Terminal()
    line = ProgressLine(terminal, "clients.csv: clients", clock=_Clock())
    try:
        report = admin.import_clients(records, name="clients.csv", apply=True, progress=line)
    finally:
        line.finish()
        repo.close()
    assert len(report.added) == 2_000
    shown = terminal.getvalue()
    assert shown.startswith("\rclients.csv: clients [") and shown.endswith("\n")
    draws = [d for d in shown.rstrip("\n").split("\r") if d]
    counts = [int(d.rsplit(" ", 1)[1].split("/")[0].replace(",", "")) for d in draws]
    assert counts == [1_000, 2_000]  # after each chunk of the file, rising to its end
    assert draws[-1].endswith(f"[{'#' * 30}] 2,000/2,000")
    line.finish()  # a second end writes nothing more
    assert terminal.getvalue() == shown


def test_a_quick_import_and_a_pipe_show_no_progress() -> None:
    assert progress_line(io.StringIO(), "x") is None  # not a terminal
    terminal = _Terminal()
    quick = ProgressLine(terminal, "x", clock=lambda: 0.0)  # the clock never reaches a second
    quick(1_000, 2_000)
    quick(2_000, 2_000)
    quick.finish()
    assert terminal.getvalue() == ""
