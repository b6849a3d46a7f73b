"""The terminal benchmarks: portal-tui itself (its console script, on the benchmark firm) under
a real pty of 120x40, side by side with its baselines started the same way: a bare Textual app
showing one line (cold start) and the invoice list loaded whole into Textual's stock DataTable.

What is on screen is known from the repository before anything starts: the first matter of the
Matters list, the first invoice and the first calendar event, and the first invoice for each
prefix of the filter text. A figure's clock stops when the program has written that text.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import data
from .apps.hello import LINE as HELLO_LINE
from .results import (
    Figure,
    Samples,
    figure,
    kib,
    mib,
    ms,
    not_measured,
    secs,
)
from .term import CTRL_Q, DOWN, ENTER, ESCAPE, PAGE_DOWN, UP, Terminal, Timeout

APPS = Path(__file__).resolve().parent / "apps"
STAFF = "scale.admin"
# Words typed into the invoice filter, one key at a time: client names of the scale data. The
# one whose prefixes change the first row most often is used (see find_screen).
FILTER_WORDS = (
    "Quinn", "Wei", "Hiroshi", "Kwame", "Ingrid", "Fatima", "Dmitri", "Aisha", "Okafor",
    "Kowalski", "Lindqvist", "Haddad", "Tanaka", "Novak", "Moreau", "Fischer", "Adeyemi",
)  # fmt: skip
CURSOR_MOVES = 10
PAGE_DOWNS = 40
QUIET = 0.3  # s without output that ends the bytes of one keystroke
SETTLE = 2.0  # s the app is left alone after its first frame before anything is typed
START_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class Screen:
    """Strings the seeded data puts on screen, found through the repository."""

    first_matter: str
    first_invoice: str
    first_event: str
    filter_text: str
    filter_rows: tuple[str, ...]  # the first invoice shown for each prefix of filter_text
    filter_distinct: bool  # whether each prefix changes the first row (a safe signal)


@dataclass
class Measures:
    cold: Samples = field(default_factory=Samples)
    hello: Samples = field(default_factory=Samples)
    launch_to_invoices: Samples = field(default_factory=Samples)
    datatable_first: Samples = field(default_factory=Samples)
    datatable_rss: Samples = field(default_factory=Samples)
    first_page: Samples = field(default_factory=Samples)
    calendar_page: Samples = field(default_factory=Samples)
    filter_key: Samples = field(default_factory=Samples)
    filter_bytes: Samples = field(default_factory=Samples)
    filter_query: Samples = field(default_factory=Samples)
    move_bytes: Samples = field(default_factory=Samples)
    move_latency: Samples = field(default_factory=Samples)
    first_frame: Samples = field(default_factory=Samples)
    idle_bytes: Samples = field(default_factory=Samples)
    rss_first_page: Samples = field(default_factory=Samples)
    rss_deep: Samples = field(default_factory=Samples)
    hwm: Samples = field(default_factory=Samples)


def find_screen(url: str, filter_query: Samples) -> Screen:
    from portal_tui.domain.kinds import ItemKind
    from portal_tui.repository import Repository

    repo = Repository.open(url, STAFF)
    try:
        first_matter = repo.list_matters(limit=1).rows[0].number
        first_invoice = repo.list_items(ItemKind.INVOICE, limit=1).rows[0].number
        event = repo.list_items(ItemKind.EVENT, limit=1).rows[0]
        first_event = _local_minute(event.starts_at)

        def first_for(text: str) -> str:
            started = time.perf_counter()
            page = repo.list_items(ItemKind.INVOICE, text=text, limit=100)
            filter_query.add(time.perf_counter() - started)
            return page.rows[0].number if page.rows else ""

        # A keystroke is seen to have taken effect when the first row it should bring shows;
        # that is a sure sign only where the row differs from the one shown before the key.
        best: tuple[int, str, tuple[str, ...]] | None = None
        for word in FILTER_WORDS:
            rows = tuple(first_for(word[: i + 1]) for i in range(len(word)))
            if not all(rows) or rows[0] == first_invoice:
                continue
            changes = sum(a != b for a, b in itertools.pairwise(rows))
            if best is None or changes > best[0]:
                best = (changes, word, rows)
            if changes == len(word) - 1:
                break
        if best is None:
            raise RuntimeError("no filter word suits: each matches nothing or the first row")
        changes, word, rows = best
        distinct = changes == len(word) - 1
        return Screen(first_matter, first_invoice, first_event, word, rows, distinct)
    finally:
        repo.close()


def _local_minute(value: datetime) -> str:
    # The app shows times in local time; its process runs with TZ=UTC.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


# Programs ----------------------------------------------------------------------------------------


class Programs:
    def __init__(self, size: data.Size) -> None:
        self.url = data.sqlite_url(size.firm)
        size.app_dir.mkdir(parents=True, exist_ok=True)
        self.env = data.clean_env(
            size.app_dir, PORTAL_TUI_DATABASE_URL=self.url, PORTAL_TUI_STAFF_USER=STAFF
        )
        self.portal_tui = data.venv_script("portal-tui")
        self.cwd = str(size.app_dir)

    def app(self) -> Terminal:
        return Terminal([self.portal_tui], self.env, cwd=self.cwd)

    def hello(self) -> Terminal:
        return Terminal([sys.executable, str(APPS / "hello.py")], self.env, cwd=self.cwd)

    def datatable(self) -> Terminal:
        argv = [sys.executable, str(APPS / "datatable.py"), self.url]
        return Terminal(argv, self.env, cwd=self.cwd)


def run_hello(programs: Programs, m: Measures) -> None:
    term = programs.hello()
    try:
        m.hello.add(term.wait_for(HELLO_LINE, timeout=START_TIMEOUT) - term.started)
    except Timeout as exc:
        m.hello.fail(str(exc))
    finally:
        term.close(CTRL_Q)


def run_launch_to_invoices(programs: Programs, screen: Screen, m: Measures) -> None:
    """Launch, and ask for Activities (key 2) as soon as the first matter row shows."""
    term = programs.app()
    try:
        term.wait_for(screen.first_matter, timeout=START_TIMEOUT)
        mark = term.mark()
        term.send(b"2")
        m.launch_to_invoices.add(term.wait_for(screen.first_invoice, mark) - term.started)
    except Timeout as exc:
        m.launch_to_invoices.fail(str(exc))
    finally:
        term.close(b"q")


def run_datatable(programs: Programs, screen: Screen, m: Measures, log: data.Log) -> None:
    term = programs.datatable()
    try:
        at = term.wait_for(screen.first_invoice, timeout=1800)
        m.datatable_first.add(at - term.started)
        term.wait_quiet(0.5, timeout=120)
        rss = term.rss_kib()
        if rss is not None:
            m.datatable_rss.add(float(rss[0]))
        log(f"  stock DataTable: first row after {at - term.started:.2f} s, RSS {rss}")
    except Timeout as exc:
        m.datatable_first.fail(str(exc))
        m.datatable_rss.fail(str(exc))
    finally:
        term.close(CTRL_Q, timeout=60)


def run_session(
    programs: Programs, screen: Screen, m: Measures, idle_s: float, log: data.Log
) -> None:
    """One run of the app through every terminal figure; a step that times out ends it."""
    term = programs.app()
    step = "start"
    try:
        at = term.wait_for(screen.first_matter, timeout=START_TIMEOUT)
        m.cold.add(at - term.started)
        m.first_frame.add(float(term.burst_bytes(at)))

        step = "settle"
        term.wait_quiet(1.0, timeout=60)
        time.sleep(SETTLE)
        term.wait_quiet(0.5, timeout=60)

        step = "idle"
        mark = term.mark()
        time.sleep(idle_s)
        m.idle_bytes.add(float(term.bytes_since(mark)))

        step = "cursor moves"
        for _ in range(CURSOR_MOVES):
            m.move_bytes.add(float(_keystroke(term, DOWN, m.move_latency)))

        step = "Activities > Invoices"
        mark = term.mark()
        sent = term.send(b"2")
        m.first_page.add(term.wait_for(screen.first_invoice, mark) - sent)
        term.wait_quiet(QUIET)
        rss = term.rss_kib()
        if rss is not None:
            m.rss_first_page.add(float(rss[0]))

        step = "Activities > Calendar"
        term.answer(b"t", QUIET)  # from the invoice list back to Activities' tabs
        mark = term.mark()
        sent = term.send(DOWN)
        m.calendar_page.add(term.wait_for(screen.first_event, mark) - sent)
        term.wait_quiet(QUIET)
        term.answer(UP, QUIET)  # back to Invoices, already read

        step = "filter"
        term.answer(ENTER, QUIET)  # into the invoice list
        term.answer(b"/", QUIET)
        for char, expected in zip(screen.filter_text, screen.filter_rows, strict=True):
            mark = term.mark()
            sent = term.send(char.encode())
            m.filter_key.add(term.wait_for(expected, mark) - sent)
            term.wait_quiet(QUIET)
            m.filter_bytes.add(float(term.bytes_since(mark)))
        term.answer(ESCAPE, 0.5)  # clears the filter: the whole list again

        step = "paging down"
        for _ in range(PAGE_DOWNS):
            term.answer(PAGE_DOWN, 0.1)
        time.sleep(0.5)
        rss = term.rss_kib()
        if rss is not None:
            m.rss_deep.add(float(rss[0]))
            m.hwm.add(float(rss[1]))
    except Timeout as exc:
        reason = f"{step}: {exc}"
        log(f"  portal-tui session stopped at {reason}")
        for samples in _session_samples(m, step):
            samples.fail(reason)
    finally:
        term.close(b"q")


def _session_samples(m: Measures, step: str) -> list[Samples]:
    order: list[tuple[str, list[Samples]]] = [
        ("start", [m.cold, m.first_frame]),
        ("settle", []),
        ("idle", [m.idle_bytes]),
        ("cursor moves", [m.move_bytes, m.move_latency]),
        ("Activities > Invoices", [m.first_page, m.rss_first_page]),
        ("Activities > Calendar", [m.calendar_page]),
        ("filter", [m.filter_key, m.filter_bytes]),
        ("paging down", [m.rss_deep, m.hwm]),
    ]
    names = [name for name, _ in order]
    return [s for name, group in order[names.index(step) :] for s in group]


def _keystroke(term: Terminal, keys: bytes, latency: Samples) -> int:
    """Send `keys`; the bytes written in answer, up to a quiet moment."""
    mark = term.mark()
    sent = term.send(keys)
    latency.add(term.wait_output(mark) - sent)
    term.wait_quiet(QUIET)
    return term.bytes_since(mark)


# The suite ---------------------------------------------------------------------------------------


def run(
    size: data.Size, reps: int, datatable_reps: int, idle_s: float, log: data.Log
) -> list[Figure]:
    m = Measures()
    programs = Programs(size)
    try:
        screen = find_screen(programs.url, m.filter_query)
    except Exception as exc:
        reason = f"the expected screen could not be found: {exc}"
        return [not_measured("terminal figures", "-", reason)]
    log(
        f"terminal: first matter {screen.first_matter}, first invoice {screen.first_invoice}, "
        f"first event {screen.first_event}, filter {screen.filter_text!r}"
    )
    data.warm(size.firm)
    log("terminal: warm-up runs (not measured)")
    run_hello(programs, Measures())
    run_session(programs, screen, Measures(), 0.5, log)

    for rep in range(reps):
        log(f"terminal: repetition {rep + 1} of {reps}")
        runs: list[Callable[[], Any]] = [
            lambda: run_hello(programs, m),
            lambda: run_session(programs, screen, m, idle_s, log),
            lambda: run_hello(programs, m),
            lambda: run_launch_to_invoices(programs, screen, m),
        ]
        if rep % 2:
            runs.reverse()  # neither side always goes first
        for one in runs:
            one()
        if rep < datatable_reps:
            run_datatable(programs, screen, m, log)
    return figures(m, screen, reps, datatable_reps)


def figures(m: Measures, screen: Screen, reps: int, datatable_reps: int) -> list[Figure]:
    table = "the stock DataTable with every invoice"
    out = [
        figure(
            "Cold start to first matter row",
            "<= 2.5x bare Textual",
            m.cold,
            show=secs,
            stat="median",
            baseline=m.hello,
            ratio_limit=2.5,
            note="baseline: a bare Textual app showing one line, launched the same way",
        ),
        figure(
            "Launch to Invoices on screen",
            f"< {table}",
            m.launch_to_invoices,
            show=secs,
            stat="median",
            baseline=m.datatable_first,
            ratio_limit=1.0,
            note="launch, key 2 at the first matter row, until the first invoice row shows",
        ),
        figure(
            "Invoices: first page on screen",
            "<= 150 ms",
            m.first_page,
            show=ms,
            limit=0.150,
            baseline=m.datatable_first,
            note="key 2 to the first invoice row; baseline: launch to first row of " + table,
        ),
        figure(
            "Calendar: first page on screen",
            "<= 150 ms",
            m.calendar_page,
            show=ms,
            limit=0.150,
            note="Down in the Activities list to the first event row",
        ),
        figure(
            "App memory (RSS), Invoices open",
            "<= 200 MB",
            m.rss_first_page,
            show=mib,
            stat="max",
            limit=200 * 1024,
            baseline=m.datatable_rss,
        ),
        figure(
            f"App memory (RSS) after {PAGE_DOWNS} PageDown",
            "<= 200 MB",
            m.rss_deep,
            show=mib,
            stat="max",
            limit=200 * 1024,
            baseline=m.datatable_rss,
            note=f"peak (VmHWM) {mib(max(m.hwm.values))}" if m.hwm else "",
        ),
        figure(
            "Filter: keystroke to updated list",
            "p95 <= 100 ms",
            m.filter_key,
            show=ms,
            limit=0.100,
            note=f"typing {screen.filter_text!r} into the invoice filter, one key at a time"
            + ("" if screen.filter_distinct else " (some prefixes keep the same first row)"),
        ),
        figure(
            "Filter: the query alone (in-process)",
            "-",
            m.filter_query,
            show=ms,
            note="list_items(text=...) for each prefix tried, limit 100, for reference",
        ),
        figure(
            "Bytes per cursor move",
            "<= 2 KiB",
            m.move_bytes,
            show=kib,
            stat="max",
            limit=2048,
            note=f"Down in the Matters list, {CURSOR_MOVES} per run; key to first byte "
            + (f"median {ms(_median(m.move_latency))}" if m.move_latency else "n/a"),
        ),
        figure(
            "Bytes per filter keystroke",
            "median <= 16 KiB",
            m.filter_bytes,
            show=kib,
            stat="median",
            limit=16 * 1024,
        ),
        figure(
            "Bytes of the first frame",
            "<= 64 KiB",
            m.first_frame,
            show=kib,
            stat="max",
            limit=64 * 1024,
            note="from launch to the end of the write burst that shows the first matter row",
        ),
        figure(
            "Bytes while idle",
            "0",
            m.idle_bytes,
            show=lambda n: f"{n:.0f} B",
            stat="max",
            limit=0,
        ),
    ]
    return out


def _median(samples: Samples) -> float:
    from .results import median

    return median(samples.values)
