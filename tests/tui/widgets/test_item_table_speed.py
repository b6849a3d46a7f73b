"""The list widget's shortcuts for speed (keystroke to screen <= 100 ms) change nothing a user sees:
a cell drawn the quick way has the same characters in the same styles as DataTable's own drawing,
whatever the cell holds; a new page replaces the rows as add_row would; and filter-as-you-type reads
the first key at once and a burst of keys once."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from portal_tui.domain.records import Key, Page, Share
from portal_tui.domain.states import ShareState
from portal_tui.tui.app import styles_path
from portal_tui.tui.common.client_text import inert
from portal_tui.tui.common.glyphs import UNICODE
from portal_tui.tui.common.item_table import Column, ItemTable, text

from ..helpers import SIZE
from ..pilot import until


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    amount: Text
    share: Share

    @property
    def key(self) -> Key:
        return (self.id,)


CELLS = [
    "Ada Byrne",
    "Smith [Deceased]",
    "A name far too long to fit in its column of the list",
    "",
    "trailing spaces    ",
    "tab\there",  # drawn the stock way: tabs expand
    "two\nlines",  # drawn the stock way: only the first line shows
    "Zoë Ångström 北京",
]


def rows_for(filter_text: str = "") -> list[Row]:
    shares = [
        Share(),
        Share(ShareState.PENDING, wanted=True),
        Share(ShareState.SHARED, wanted=True),
    ]
    rows = [
        Row(
            i + 1,
            name,
            Text(f"{(i + 1) * 1234.5:,.2f}", justify="right"),
            shares[i % len(shares)],
        )
        for i, name in enumerate(CELLS)
    ]
    return [r for r in rows if filter_text.lower() in r.name.lower()]


COLUMNS: list[Column[Row]] = [
    Column("Name", lambda r: text(r.name), 20),
    Column("Styled", lambda r: Text(r.name[:6], style="bold red"), 8),
    Column("Spans", lambda r: Text.assemble(("Due ", "italic"), (r.name, "green")), 12),
    Column("Amount", lambda r: r.amount, 9),
]


class Host(App[None]):
    CSS_PATH = str(styles_path())

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []
        self.filter_text = ""

    def fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[Row]:
        self.fetched.append(self.filter_text)
        return Page(tuple(rows_for(self.filter_text)), False, False)

    def compose(self) -> ComposeResult:
        yield ItemTable(COLUMNS, self.fetch, UNICODE)


def cells(lines: list[list[Segment]]) -> list[tuple[str, Style | None]]:
    """Each character with its style, without the click metadata: what reaches the screen."""
    out: list[tuple[str, Style | None]] = []
    for line in lines:
        for segment in line:
            style = segment.style.copy() if segment.style else None
            if style is not None:
                style._meta = None
            out.extend((char, style) for char in segment.text)
    return out


async def test_quick_cells_draw_every_cell_as_datatable_does() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ItemTable)
        await table.loaded.wait()
        await pilot.pause()
        base = table.rich_style
        checked = 0
        for row_index in range(table.row_count):
            for column_index, column in enumerate(table.ordered_columns):
                width = column.get_render_width(table)
                for cursor in (False, True):
                    quick = table._render_cell(row_index, column_index, base, width, cursor)
                    table._cell_render_cache.clear()
                    stock = DataTable._render_cell(
                        table, row_index, column_index, base, width, cursor
                    )
                    table._cell_render_cache.clear()
                    assert len(quick) == 1
                    assert cells(quick) == cells(stock), (row_index, column_index, cursor)
                    checked += 1
        assert checked == len(CELLS) * len(table.ordered_columns) * 2


async def test_quick_cells_merge_runs_of_one_style() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ItemTable)
        await table.loaded.wait()
        await pilot.pause()
        name_column = 2  # after the share icon and the mark
        width = table.ordered_columns[name_column].get_render_width(table)
        quick = table._render_cell(0, name_column, table.rich_style, width)
        # Padding, "Ada Byrne" and the blank after it share one style: one segment.
        assert [s.text for s in quick[0]] == [" Ada Byrne" + " " * 11 + " "]


async def test_new_page_replaces_rows_keeping_cursor_on_the_same_item() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ItemTable)
        await table.loaded.wait()
        table.move_cursor(row=2)
        await pilot.pause()
        assert table.current is not None and table.current.id == 3
        app.filter_text = "a"
        table.reload()
        await table.loaded.wait()
        await pilot.pause()
        shown = [r.id for r in table.rows_shown]
        assert shown == [r.id for r in rows_for("a")]
        assert [str(table.get_row_at(i)[2]) for i in range(table.row_count)] == [
            inert(r.name)
            for r in rows_for("a")  # client text, shown inert
        ]
        assert table.current is not None and table.current.id == 3
        assert table.cursor_row == shown.index(3)


async def test_filter_reads_first_key_at_once_and_a_burst_once() -> None:
    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ItemTable)
        await table.loaded.wait()
        await pilot.pause(0.1)
        app.fetched.clear()

        # A key after a pause is read at once: no timer stands between it and the query.
        app.filter_text = "s"
        table.reload_soon()
        assert not table.loaded.is_set()
        assert table._reload_timer is None
        await table.loaded.wait()
        assert app.fetched == ["s"], app.fetched

        # Keys close together: the first is read at once, the rest once when they stop.
        await pilot.pause(0.1)
        app.fetched.clear()
        for typed in ("a", "ad", "ada"):
            app.filter_text = typed
            table.reload_soon()
        assert table._reload_timer is not None
        await until(
            pilot,
            lambda: table._reload_timer is None and table.loaded.is_set(),
            "the reload after the burst",
        )
        assert app.fetched[-1] == "ada", app.fetched
        assert len(app.fetched) <= 2, app.fetched
        assert [r.name for r in table.rows_shown] == ["Ada Byrne"]


class LongHost(App[None]):
    """A list of 2,000 rows read by keyset, 100 at a time, as the real lists are."""

    CSS_PATH = str(styles_path())

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.all = [
            Row(i, f"Client {i:04}", Text("1.00", justify="right"), Share()) for i in range(1, 2001)
        ]

    def fetch(self, after: Key | None, before: Key | None, limit: int) -> Page[Row]:
        self.reads += 1
        if before is not None:
            end = next(i for i, r in enumerate(self.all) if r.key == before)
            start = max(end - limit, 0)
        else:
            start = (
                0
                if after is None
                else next(i + 1 for i, r in enumerate(self.all) if r.key == after)
            )
            end = min(start + limit, len(self.all))
        return Page(tuple(self.all[start:end]), start > 0, end < len(self.all))

    def compose(self) -> ComposeResult:
        yield ItemTable(COLUMNS, self.fetch, UNICODE)


async def test_paging_down_reads_each_page_once_and_then_rests() -> None:
    app = LongHost()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(ItemTable)
        await table.loaded.wait()
        table.focus()
        for _ in range(40):
            await pilot.press("pagedown")
            await pilot.pause(0.02)
        await pilot.pause(0.3)
        settled = app.reads
        current = table.current
        await pilot.pause(0.5)
        # No window sliding back and forth on its own once the keys stop.
        assert app.reads == settled
        assert table.current == current
        assert current is not None and current.id > 1000
        # 40 pages of ~35 rows: about 14 pages read forward, not hundreds.
        assert settled < 30, settled
