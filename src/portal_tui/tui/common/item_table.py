"""A list of firm items that never holds the whole list: a window of a few pages read by keyset,
slid forward or back as the cursor nears its edge, so a list of a million invoices costs what a
list of a hundred does. The far-left column is the shared icon (S0); the next marks rows for
bulk actions (Space). Marks are ids held by the table, not rows: they outlive the window sliding
on or a reload, and marking thousands costs a set of ints."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import monotonic
from typing import Any, Generic, Protocol, TypeVar

from rich.text import Text
from textual import events, work
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable

from portal_tui.domain.records import Key, Page, Share

from ..messages import DatabaseBack, PortalSynced
from .client_text import inert
from .glyphs import Glyphs
from .quick_cells import QuickCells

# Keys closer together than this are one burst of typing, read once when it stops; a key after a
# pause is read at once (keystroke to screen <= 100 ms).
FILTER_DELAY_S = 0.04


class ListRow(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def key(self) -> Key: ...


RowT = TypeVar("RowT", bound=ListRow)

# (after, before, limit) -> one page of rows, read in a thread.
Fetch = Callable[[Key | None, Key | None, int], Page[Any]]

PAGE = 100
WINDOW = 300
EDGE = 10  # rows from the window's edge at which the next page is read
SEEN_CHECK_S = 0.2  # after mounting, when a list looks for itself on screen (see on_mount)


@dataclass(frozen=True, slots=True)
class Column(Generic[RowT]):
    label: str
    cell: Callable[[RowT], str | Text]
    width: int | None = None


def text(value: object) -> Text:
    """Client data as plain text: never parsed as markup ("Smith [Deceased]" stays as is),
    and inert (control and escape characters shown, never sent to the terminal)."""
    return Text(inert(value), no_wrap=True, overflow="ellipsis")


class ItemTable(QuickCells, Generic[RowT]):
    """Rows come from `fetch`; `reload()` starts over, keeping the cursor on a row if asked."""

    BINDINGS = [
        # Up, Down and Enter are DataTable's; named here too so that they can be remapped and
        # `?` says what they do in a list.
        Binding(
            "j,down", "cursor_down", "Down", show=False, id="list.down", tooltip="Move in a list"
        ),
        Binding("k,up", "cursor_up", "Up", show=False, id="list.up", tooltip="Move in a list"),
        Binding(
            "enter",
            "select_cursor",
            "Open",
            show=False,
            id="list.open",
            tooltip="Open; on an intake form, its submissions",
        ),
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            show=False,
            id="list.mark",
            tooltip="Mark rows for bulk share; switch a box or party",
        ),
    ]

    class Opened(Message):
        """Enter, or a double-click on a row: open it."""

        def __init__(self, table: ItemTable[Any], row: Any) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> ItemTable[Any]:
            return self.table

    class MarksChanged(Message):
        """Rows were marked or unmarked (Space), or the marks were cleared."""

        def __init__(self, table: ItemTable[Any], count: int) -> None:
            super().__init__()
            self.table = table
            self.count = count

        @property
        def control(self) -> ItemTable[Any]:
            return self.table

    class Moved(Message):
        """The highlighted row changed (None: the list is empty)."""

        def __init__(self, table: ItemTable[Any], row: Any | None) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> ItemTable[Any]:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column[RowT]],
        fetch: Fetch,
        glyphs: Glyphs,
        *,
        shares: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._columns = list(columns)
        self._fetch = fetch
        self._glyphs = glyphs
        self._shares = shares
        self._rows: list[RowT] = []
        self._more_before = False
        self._more_after = False
        self._loading = False
        self._reload_timer: Timer | None = None
        self._last_key = 0.0
        self.marked: set[int] = set()  # ids of the rows marked for a bulk action
        self.loaded = asyncio.Event()
        self._started = False
        self._looking: Timer | None = None  # see on_mount

    def on_mount(self) -> None:
        if self._shares:
            self.add_column(Text(" "), width=1, key="share")
        self.add_column(Text(" "), width=1, key="mark")
        for i, col in enumerate(self._columns):
            self.add_column(Text(col.label), width=col.width, key=f"c{i}")
        # Read the first page only once the list is seen: hidden tabs cost nothing at start.
        # Textual's Show is not enough: a list mounted into a section that is switched in
        # while keys move through the navigation can be laid out, on screen, and get
        # neither Show nor Resize (a layout pass that only scrolls): it would stay empty,
        # unread. So it also looks for itself on screen once it has been drawn.
        # It keeps looking (a check of its own region, cheap) until it has been seen: one look
        # at mount can come before a switch that shows it without a Show event.
        self.call_after_refresh(self._seen_if_on_screen)
        if not self._started:
            self._looking = self.set_interval(SEEN_CHECK_S, self._seen_if_on_screen)

    def on_show(self) -> None:
        self._seen()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.area:
            self._seen()

    def _seen_if_on_screen(self) -> None:
        if not self._started and self.size.area and self.is_on_screen:
            self._seen()

    def _seen(self) -> None:
        if not self._started:
            self._started = True
            self.reload()

    # Reading ---------------------------------------------------------------------------------

    @property
    def rows_shown(self) -> list[RowT]:
        return list(self._rows)

    @property
    def current(self) -> RowT | None:
        if not self._rows:
            return None
        index = min(max(self.cursor_row, 0), len(self._rows) - 1)
        return self._rows[index]

    @property
    def shown_once(self) -> bool:
        """Whether the list has been read: a list never seen is not worth refreshing."""
        return self._started

    def set_fetch(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self.reload()

    def reload_soon(self) -> None:
        """Filter as you type: the first key after a pause reloads at once; keys that follow
        within FILTER_DELAY_S of each other make one reload when they stop."""
        now = monotonic()
        quiet = now - self._last_key >= FILTER_DELAY_S
        self._last_key = now
        if quiet and self._reload_timer is None:
            self.reload()
            return
        if self._reload_timer is not None:
            self._reload_timer.stop()
        self._reload_timer = self.set_timer(FILTER_DELAY_S, self._reload_after_typing)

    def _reload_after_typing(self) -> None:
        self._reload_timer = None
        self.reload()

    def on_portal_synced(self, _: PortalSynced) -> None:
        # Delivery or sync ran (client replies, share icons): a list already read reads again.
        if self.shown_once:
            self.reload()

    def on_database_back(self, _: DatabaseBack) -> None:
        if self.shown_once:
            self.reload()

    def reload(self, keep_id: int | None = None) -> None:
        """Read the first page again (after a filter change, a share, a sync)."""
        self._started = True
        if self._looking is not None:
            self._looking.stop()
            self._looking = None
        keep = keep_id if keep_id is not None else getattr(self.current, "id", None)
        self.loaded.clear()
        self._load_first(keep)

    @work(group="load", exclusive=True)
    async def _load_first(self, keep_id: int | None) -> None:
        page = await asyncio.to_thread(self._fetch, None, None, PAGE)
        self._show(list(page.rows), page.more_before, page.more_after, keep_id)
        self.loaded.set()

    @work(group="page")
    async def _load_after(self) -> None:
        try:
            page = await asyncio.to_thread(self._fetch, self._rows[-1].key, None, PAGE)
            rows = self._rows + list(page.rows)
            more_before = self._more_before
            if len(rows) > WINDOW:
                rows, more_before = rows[len(rows) - WINDOW :], True
            self._show(rows, more_before, page.more_after, getattr(self.current, "id", None))
        finally:
            self._loading = False

    @work(group="page")
    async def _load_before(self) -> None:
        try:
            page = await asyncio.to_thread(self._fetch, None, self._rows[0].key, PAGE)
            rows = list(page.rows) + self._rows
            more_after = self._more_after
            if len(rows) > WINDOW:
                rows, more_after = rows[:WINDOW], True
            self._show(rows, page.more_before, more_after, getattr(self.current, "id", None))
        finally:
            self._loading = False

    def _cells(self, row: RowT) -> list[Text]:
        cells: list[Text] = []
        if self._shares:
            cells.append(self._glyphs.share(getattr(row, "share", Share())))
        cells.append(self._mark_cell(row))
        for col in self._columns:
            value = col.cell(row)
            cells.append(value if isinstance(value, Text) else text(value))
        return cells

    def _show(
        self, rows: list[RowT], more_before: bool, more_after: bool, cursor_id: int | None
    ) -> None:
        """Put a new window on screen, the cursor staying on the same item where it can."""
        self._rows, self._more_before, self._more_after = rows, more_before, more_after
        with self.app.batch_update():
            self.put_rows([(str(row.id), self._cells(row)) for row in rows])
            index = next((i for i, r in enumerate(rows) if r.id == cursor_id), 0)
            if rows:
                self.move_cursor(row=index, animate=False)
        self.post_message(self.Moved(self, self.current))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        index = event.cursor_row
        if index != self.cursor_row:
            # Posted while a new window was put in (the cursor passes row 0 on the way): the
            # window is not at its edge, and reading a page for it would slide the window
            # back and forth for ever.
            return
        if not self._loading and self._rows:
            if self._more_after and index >= len(self._rows) - EDGE:
                self._loading = True
                self._load_after()
            elif self._more_before and index < EDGE:
                self._loading = True
                self._load_before()
        self.post_message(self.Moved(self, self.current))

    def action_select_cursor(self) -> None:
        """Enter opens the highlighted row."""
        if self.current is not None:
            self.post_message(self.Opened(self, self.current))

    def on_click(self, event: events.Click) -> None:
        # One click highlights a row (the seed's "single-click it to highlight it"); a
        # double-click opens it, as Enter does. Runs before DataTable's own handler, so on the
        # second click the first has already moved the cursor to the clicked row.
        row, current = event.style.meta.get("row"), self.current
        if event.chain >= 2 and row is not None and row == self.cursor_row and current:
            self.post_message(self.Opened(self, current))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # DataTable selects on any click on the highlighted cell: that only highlights here.
        event.stop()

    # Changing rows in place -------------------------------------------------------------------

    def replace_row(self, row: RowT) -> None:
        """Show a fresh copy of one row (after a share, an edit) without reloading the list."""
        for i, old in enumerate(self._rows):
            if old.id == row.id:
                self._rows[i] = row
                for col_index, cell in enumerate(self._cells(row)):
                    self.update_cell_at(Coordinate(i, col_index), cell)
                if i == self.cursor_row:
                    self.post_message(self.Moved(self, row))
                return

    # Marks -------------------------------------------------------------------------------------

    def _mark_cell(self, row: RowT) -> Text:
        return Text(self._glyphs.marked, style="bold") if row.id in self.marked else Text(" ")

    def action_toggle_mark(self) -> None:
        row = self.current
        if row is None:
            return
        self.marked ^= {row.id}
        column = 1 if self._shares else 0
        self.update_cell_at(Coordinate(self.cursor_row, column), self._mark_cell(row))
        self.post_message(self.MarksChanged(self, len(self.marked)))
        self.action_cursor_down()

    def clear_marks(self) -> None:
        if not self.marked:
            return
        self.marked.clear()
        column = 1 if self._shares else 0
        for i, row in enumerate(self._rows):
            self.update_cell_at(Coordinate(i, column), self._mark_cell(row))
        self.post_message(self.MarksChanged(self, 0))
