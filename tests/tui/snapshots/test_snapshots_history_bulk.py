"""SVG snapshots of the share history box and of a bulk share: a list with marked rows, the one
question, the progress bar (held still half-way), and the summary with its refusals — at 80x24
and 120x40; and in ASCII mode these draw only ASCII.

The history is of a note the demo shared and delivered; the test's copy of the firm records
the client's first view of it, as sync does, at a fixed time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.widgets import ProgressBar

from portal_tui.domain.kinds import ItemKind
from portal_tui.repository import Repository
from portal_tui.tui.common.item_table import ItemTable
from portal_tui.tui.common.list_pane import ListPane
from portal_tui.tui.common.modals import ActionMenu, Confirm
from portal_tui.tui.sharing import bulk
from portal_tui.tui.sharing.bulk import BulkProgress, BulkSummary
from portal_tui.tui.sharing.share_history import ShareHistoryScreen

from ..pilot import (
    activity,
    cursor_to,
    open_section,
    portal_app,
    press_until,
    settle,
    until,
    waited,
)
from .conftest import MATTER, OFF_MATTER, MakeApp
from .test_snapshots import SIZES, AnyPilot, Steps, drawn_text

NOTE = "Meeting summary"  # shared by the demo on MATTER, and delivered
VIEWED_AT = datetime(2026, 11, 30, 17, 45, tzinfo=UTC)


@pytest.fixture
def note_viewed(firm_url: str) -> None:
    system = Repository.open(firm_url)
    try:
        matter = next(m for m in system.list_matters(limit=100).rows if m.number == MATTER)
        rows = system.list_items(ItemKind.NOTE, matter_id=matter.id, limit=100).rows
        note = next(r.id for r in rows if r.subject == NOTE)
        system.record_item_seen(ItemKind.NOTE, note, viewed_at=VIEWED_AT)
    finally:
        system.close()


def _pane(pilot: AnyPilot) -> ListPane:
    return next(p for p in portal_app(pilot).screen.query(ListPane) if p.table.has_focus)


async def _history(pilot: AnyPilot) -> None:
    pane = await open_section(pilot, "notes", MATTER)
    assert pane is not None
    await cursor_to(pilot, pane.table, subject=NOTE)
    await press_until(pilot, "h", ShareHistoryScreen, "the share history")
    box = portal_app(pilot).screen
    assert isinstance(box, ShareHistoryScreen)
    await waited(box.loaded)
    await settle(pilot)


async def _mark_events(pilot: AnyPilot) -> ItemTable[Any]:
    """Activities > Calendar: two unshared events of MATTER and one of the portal-OFF matter,
    marked."""
    await activity(pilot, "Calendar")
    table = _pane(pilot).table
    rows = table.rows_shown
    on = [r for r in rows if r.matter_number == MATTER and not r.share.wanted][:2]
    off = [r for r in rows if r.matter_number == OFF_MATTER][:1]
    assert len(on) == 2 and len(off) == 1, "the demo's events changed"
    for row in [*on, *off]:
        await cursor_to(pilot, table, id=row.id)
        await pilot.press("space")
    await cursor_to(pilot, table, id=on[0].id)
    await settle(pilot)
    return table


async def _marked(pilot: AnyPilot) -> None:
    await _mark_events(pilot)


async def _confirm(pilot: AnyPilot) -> None:
    """Activities > Invoices: the first three marked, a Draft among them (S1)."""
    await activity(pilot, "Invoices")
    table = _pane(pilot).table
    rows = table.rows_shown[:3]
    for row in rows:
        await cursor_to(pilot, table, id=row.id)
        await pilot.press("space")
    await press_until(pilot, "s", ActionMenu, "the bulk choices")
    await press_until(pilot, "enter", Confirm, "the bulk question")


async def _summary(pilot: AnyPilot) -> None:
    await _mark_events(pilot)
    await press_until(pilot, "s", ActionMenu, "the bulk choices")
    await press_until(pilot, "enter", Confirm, "the bulk question")
    await pilot.press("y")
    await until(pilot, lambda: isinstance(pilot.app.screen, BulkSummary), "the summary")
    await settle(pilot)


async def _progress(pilot: AnyPilot) -> None:
    """The bar after the first of two chunks; the second never starts (see `held_half_way`)."""
    await _mark_events(pilot)
    await press_until(pilot, "s", ActionMenu, "the bulk choices")
    await press_until(pilot, "enter", Confirm, "the bulk question")
    await pilot.press("y")

    def half_way() -> bool:
        box = pilot.app.screen
        return isinstance(box, BulkProgress) and box.query_one(ProgressBar).progress == 2

    await until(pilot, half_way, "the bar half-way")
    await pilot.pause()


@pytest.fixture
def held_half_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of two, and the second chunk waits for ever: the bar stands still for the shot."""
    run_chunk = BulkProgress.run_chunk
    calls: list[int] = []

    async def first_only(self: BulkProgress, ids: list[int], batch: str, last: bool) -> None:
        calls.append(len(ids))
        if len(calls) > 1:
            await asyncio.Event().wait()
        await run_chunk(self, ids, batch, last)

    monkeypatch.setattr(bulk, "CHUNK", 2)
    monkeypatch.setattr(BulkProgress, "run_chunk", first_only)


SHOTS: dict[str, Steps] = {
    "history": _history,
    "list-marked": _marked,
    "bulk-confirm": _confirm,
    "bulk-summary": _summary,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SHOTS)
def test_screen(
    name: str, size: str, make_app: MakeApp, snap_compare: Any, note_viewed: None
) -> None:
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=SHOTS[name])


@pytest.mark.parametrize("size", SIZES)
def test_bulk_progress(
    size: str, make_app: MakeApp, snap_compare: Any, held_half_way: None
) -> None:
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=_progress)


def test_ascii_marked_list(make_app: MakeApp, snap_compare: Any) -> None:
    """`--ascii`: the mark is ">"."""
    app = make_app(ascii_only=True)
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=_marked)


@pytest.mark.parametrize("name", SHOTS)
async def test_ascii_mode_draws_only_ascii(name: str, make_app: MakeApp, note_viewed: None) -> None:
    app = make_app(ascii_only=True)
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        await waited(app.ready)
        await SHOTS[name](pilot)
        text = drawn_text(app)
        strange = sorted({ch for ch in text if ord(ch) >= 128})
        assert not strange, f"{name}: non-ASCII on screen: {strange!r}\n{text}"
