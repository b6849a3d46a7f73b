"""Cheaper drawing for a DataTable whose cells are one line of rich Text each.

DataTable renders every cell through Rich's general machinery (Padding around the cell,
wrapping, line splitting): a third of a millisecond a cell, so a list of 35 rows by 9 columns
took ~100 ms to draw after each filter keystroke, and measuring every cell of a new page for
column widths another ~30 ms — though all our columns have fixed widths. For single-line Text
cells in rows of height 1 the same segments come out of a few direct steps; anything else
(headers, wrapped or multi-line cells, labels, auto-height rows) goes the stock way. The result
is the same on screen (the snapshot tests hold it), with adjacent segments of one style merged,
which also means fewer escape sequences written per row.

This leans on DataTable internals; Textual is pinned exactly (pyproject.toml), and
tests/tui/widgets/test_quick_cells_textual.py names the members used and stops at a Textual that
is not the pin or changed them; the snapshot and pilot tests would show a change of behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import zip_longest
from typing import Any

from rich.console import OverflowMethod
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets._data_table import DuplicateKey, Row, RowKey

SegmentLines = list[list[Segment]]


def _plain_line(cell: object) -> Text | None:
    """The cell if drawing it is just cropping one line of text, else None."""
    if not isinstance(cell, Text):
        return None
    plain = cell.plain
    if "\n" in plain or "\t" in plain or cell.justify not in (None, "default", "left", "right"):
        return None
    return cell


class QuickCells(DataTable[Text]):
    """A DataTable drawing one-line Text cells directly; see the module's note."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The click target of each cell: made once per position rather than once per drawing.
        self._meta_styles: dict[tuple[int, int], Style] = {}

    def put_rows(self, rows: Sequence[tuple[str, Sequence[Text]]]) -> None:
        """Replace every row at once: `add_row` one by one re-validates the cursor, checks
        idleness and sorts the columns for each row, a third of a millisecond a row."""
        self.clear()
        keys = [column.key for column in self.ordered_columns]
        for index, (key, cells) in enumerate(rows):
            row_key = RowKey(key)
            if row_key in self._row_locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            if len(cells) > len(keys):
                raise ValueError("More values provided than there are columns.")
            self._row_locations[row_key] = index
            self._data[row_key] = dict(zip_longest(keys, cells))
            self.rows[row_key] = Row(row_key, 1, None, False)
            self._new_rows.add(row_key)
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if rows and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        stock = super()._render_cell
        if row_index < 0 or column_index < 0 or row_index < self.fixed_rows:
            return stock(row_index, column_index, base_style, width, cursor, hover)
        if column_index < self.fixed_columns or width < 2 * self.cell_padding:
            return stock(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return stock(row_index, column_index, base_style, width, cursor, hover)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        row = self.rows.get(row_key)
        cells = self._get_row_renderables(row_index).cells
        cell = _plain_line(cells[column_index]) if column_index < len(cells) else None
        if row is None or row.height != 1 or cell is None:
            return stock(row_index, column_index, base_style, width, cursor, hover)

        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        meta = self._meta_styles.get((row_index, column_index))
        if meta is None:
            meta = Style.from_meta({"row": row_index, "column": column_index})
            self._meta_styles[row_index, column_index] = meta
        pre_style = base_style + meta + component_style
        lines = [_cell_segments(cell, width, self.cell_padding, pre_style, post_style, self)]
        self._cell_render_cache[cache_key] = lines
        return lines

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Only auto-width columns need their cells measured, and only rows without a label
        # and of height 1 are simple enough for this path.
        rows = list(new_rows)
        for row_key in rows:
            row = self.rows.get(row_key)
            if row is not None and (row.auto_height or row.height != 1 or row.label is not None):
                super()._update_dimensions(rows)
                return
        auto = [(i, c) for i, c in enumerate(self.ordered_columns) if c.auto_width]
        if auto:
            for row_key in rows:
                row_index = self._row_locations.get(row_key)
                if row_index is None:  # removed before the table was idle
                    continue
                cells = self._get_row_renderables(row_index).cells
                for i, column in auto:
                    column.content_width = max(column.content_width, _width(self, cells[i]))
        data_width = sum(column.get_render_width(self) for column in self.columns.values())
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            data_width + self._row_label_column_width, self._total_row_height + header_height
        )


def _width(table: DataTable[Any], cell: object) -> int:
    line = _plain_line(cell)
    if line is not None:
        return line.cell_len
    from textual.render import measure

    return measure(table.app.console, cell, 1)  # type: ignore[arg-type]


def _cell_segments(
    cell: Text,
    width: int,
    padding: int,
    pre_style: Style,
    post_style: Style,
    table: DataTable[Any],
) -> list[Segment]:
    """What Rich makes of Styled(Padding(cell, (0, padding)), pre_style, post_style) in one
    line of `width` cells, with runs of one style merged."""
    inner = max(width - 2 * padding, 0)
    line = cell.copy()
    overflow: OverflowMethod = "ellipsis" if cell.overflow == "ellipsis" else "crop"
    if cell.justify == "right":
        line.rstrip()
    else:
        line.rstrip_end(inner)
    line.truncate(inner, overflow=overflow)
    gap = inner - line.cell_len
    segments: list[Segment] = []
    if padding:
        segments.append(Segment(" " * padding))
    if gap and cell.justify == "right":
        segments.append(Segment(" " * gap))
    console = table.app.console
    if line.spans:
        segments.extend(line.render(console, end=""))
    elif line.plain:
        # Text.render leaves the text's own style to the caller when it has no spans.
        segments.append(Segment(line.plain, console.get_style(line.style, default=Style.null())))
    if gap and cell.justify != "right":
        segments.append(Segment(" " * gap))
    if padding:
        segments.append(Segment(" " * padding))
    return list(Segment.simplify(Segment.apply_style(segments, pre_style, post_style)))
