"""Baseline for the invoice list: every invoice of the firm read through the repository (the
same query and rows as Activities > Invoices, a thousand at a time) and loaded whole into
Textual's stock DataTable before the first frame, the way a list is written without windows.

Usage: python bench/apps/datatable.py DATABASE_URL
"""

from __future__ import annotations

import sys
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from portal_tui.domain.kinds import ItemKind
from portal_tui.repository import Repository
from portal_tui.repository.paging import MAX_LIMIT
from portal_tui.tui.common.columns import INVOICE_COLUMNS


def all_invoices(url: str) -> list[Any]:
    repo = Repository.open(url)
    try:
        rows: list[Any] = []
        after = None
        while True:
            page = repo.list_items(ItemKind.INVOICE, after=after, limit=MAX_LIMIT)
            rows.extend(page.rows)
            if not page.more_after or not page.rows:
                return rows
            after = page.rows[-1].key
    finally:
        repo.close()


class WholeList(App[None]):
    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        table: DataTable[Text | str] = self.query_one(DataTable)
        for column in INVOICE_COLUMNS:
            table.add_column(column.label, width=column.width)
        table.add_rows(
            [column.cell(row) for column in INVOICE_COLUMNS] for row in all_invoices(self._url)
        )
        table.focus()


if __name__ == "__main__":
    WholeList(sys.argv[1]).run()
