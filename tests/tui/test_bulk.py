"""Bulk share and unshare of marked rows, by keyboard: Space marks rows (the
mark shows, the status line counts them), `s` or Action offers to share or unshare them all,
one question, a progress bar while the work runs, then a summary naming each item a rule
refused, with the rule's message (M1, S6) — and one email batch for the whole bulk (F5)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import ProgressBar, Static

from portal_tui.domain import InvoiceStatus, ItemKind, OutboxOp, OutboxState, texts
from portal_tui.repository.delivery import Delivered, OutboxMessage, Outcome
from portal_tui.store.models import OutboxEntry
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.modals import ActionMenu, Confirm, Notice
from portal_tui.tui.matter.matter_details import MatterDetails
from portal_tui.tui.matters.main_screen import MainScreen
from portal_tui.tui.sharing import bulk
from portal_tui.tui.sharing.bulk import BulkProgress, BulkSummary

from .helpers import (
    ADMIN,
    BILLING,
    SIZE,
    AppPilot,
    Table,
    TuiFirm,
    cell,
    dialog,
    glyph,
    options,
    screen_text,
)
from .pilot import (
    activities,
    loaded,
    matter_section,
    move_to,
    open_matter,
    screen_of,
    started,
    until,
)


def status_line(app: PortalApp) -> str:
    return str(app.screen.query_one("#status", Static).content)


def mark_cell(table: Table, item_id: int) -> str:
    return str(table.get_cell(str(item_id), "mark"))


async def mark(pilot: AppPilot, table: Table, *item_ids: int) -> None:
    """Highlight each row and press Space."""
    for item_id in item_ids:
        await move_to(pilot, table, item_id)
        await pilot.press("space")
    await pilot.pause()


async def answer_summary(pilot: AppPilot) -> tuple[str, str]:
    """Wait for the summary; returns what it says (done, refused), then OK closes it."""
    app = pilot.app
    summary = await screen_of(pilot, BulkSummary)
    done = str(summary.query_one("#bulk-done", Static).content)
    refused = str(summary.query_one("#bulk-refused", Static).content)
    text = screen_text(app)  # type: ignore[arg-type]
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, BulkSummary), "the summary to close")
    return done, refused + "\n" + text


def outbox(firm: TuiFirm) -> list[OutboxEntry]:
    with firm.system.db.read() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


class Portal:
    def deliver(self, message: OutboxMessage) -> Outcome:
        return Delivered()


def deliver(firm: TuiFirm) -> None:
    while firm.system.deliver_pending(Portal()).delivered:
        pass


@pytest.fixture
def progress_seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, float]]:
    """Chunks of one item, so the bar moves; records, before each chunk, whether the progress
    box was on top and how far its bar was."""
    seen: list[tuple[bool, float]] = []
    run_chunk = BulkProgress.run_chunk

    async def spy(self: BulkProgress, ids: list[int], batch: str, last: bool) -> None:
        seen.append((self.app.screen is self, self.query_one(ProgressBar).progress))
        await run_chunk(self, ids, batch, last)

    monkeypatch.setattr(bulk, "CHUNK", 1)
    monkeypatch.setattr(BulkProgress, "run_chunk", spy)
    return seen


async def test_s0_three_marked_rows_shared_with_one_question_progress_summary_and_one_batch(
    tui_firm: TuiFirm, progress_seen: list[tuple[bool, float]]
) -> None:
    repo = tui_firm.repo(ADMIN)
    notes = [
        tui_firm.note,
        repo.add_note(tui_firm.on_matter, subject="Bank letter", body="Sent."),
        repo.add_note(tui_firm.on_matter, subject="Valuation", body="Received."),
    ]
    deliver(tui_firm)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        table = await matter_section(pilot, "notes")
        await mark(pilot, table, *notes)
        assert table.marked == set(notes)
        assert all(mark_cell(table, n) == app.glyphs.marked for n in notes)
        assert status_line(app).endswith("3 marked")

        await pilot.press("s")
        await screen_of(pilot, ActionMenu)
        assert options(app) == ["Share 3 marked via Client Portal", "Unshare 3 marked"]
        await pilot.press("enter")
        await screen_of(pilot, Confirm)
        assert app.focused is not None and app.focused.id == "no"
        assert dialog(app) == (
            "Share via Client Portal",
            "Share 3 marked items via the client portal?",
        )
        await pilot.press("y")
        done, _ = await answer_summary(pilot)
        assert done == "Shared 3 of 3 marked items."
        # The progress box was up while the work ran, and its bar moved chunk by chunk.
        assert progress_seen == [(True, 0), (True, 1), (True, 2)]

        await screen_of(pilot, MatterDetails)
        await until(pilot, lambda: not table.marked and table.loaded.is_set(), "the reload")
        await pilot.pause()
        assert all(mark_cell(table, n) == " " for n in notes)  # marks cleared
        assert "marked" not in status_line(app)
        assert "Sharing: waiting for delivery" in status_line(app)  # brought up to date
        for n in notes:
            share = tui_firm.share(ItemKind.NOTE, n)
            assert share.wanted
            assert cell(table, n, "share") == glyph(app, share)  # the new icons

    # F5: one batch across the three chunks, so the client gets one email for all three.
    publishes = [r for r in outbox(tui_firm) if r.op is OutboxOp.PUBLISH and r.item_id in notes]
    assert len(publishes) == 3 and len({r.batch for r in publishes}) == 1
    deliver(tui_firm)
    notices = [r for r in outbox(tui_firm) if r.op is OutboxOp.NOTIFY]
    assert [(n.batch, n.state) for n in notices] == [(publishes[0].batch, OutboxState.DELIVERED)]


async def test_m1_s6_a_bulk_across_matters_lists_each_refusal_with_its_rule(
    tui_firm: TuiFirm,
) -> None:
    """Activities > Notes: the ON matter's note is shared; the OFF matter's (M1) and the one
    whose matter does not permit Notes (S6) are named under their rule's message."""
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await activities(pilot, ItemKind.NOTE)
        await mark(pilot, table, tui_firm.note, tui_firm.off_note, tui_firm.narrow_note)
        assert status_line(app).endswith("3 marked")
        await pilot.press("a")  # the Action menu offers the bulk too
        await screen_of(pilot, ActionMenu)
        assert options(app)[:2] == ["Share 3 marked via Client Portal", "Unshare 3 marked"]
        assert options(app)[-1] == texts.SHARE_HISTORY
        await pilot.press("enter")
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        done, refused = await answer_summary(pilot)
        assert done == "Shared 1 of 3 marked items."
        assert "Not changed (2):" in refused
        off = refused.index(texts.MATTER_PORTAL_OFF)
        assert refused.index("- 2026-0002  [b]bold[/b]", off) > off  # as written, not markup
        narrow = texts.CATEGORY_NOT_PERMITTED_MATTER.format(category="Notes")
        assert refused.index("- 2026-0001  Landlord call", refused.index(narrow)) > 0
        await screen_of(pilot, MainScreen)
        await until(pilot, lambda: not table.marked, "the marks to clear")

    assert tui_firm.share(ItemKind.NOTE, tui_firm.note).wanted
    assert not tui_firm.share(ItemKind.NOTE, tui_firm.off_note).wanted
    assert not tui_firm.share(ItemKind.NOTE, tui_firm.narrow_note).wanted


async def test_s1_a_bulk_with_a_draft_invoice_says_it_will_be_marked_final(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await activities(pilot, ItemKind.INVOICE)
        await mark(pilot, table, tui_firm.draft_invoice, tui_firm.final_invoice)
        question = (
            "Share 2 marked items via the client portal? 1 of them is an Unfinal invoice: it "
            "will be marked as Final once shared."
        )
        # No: nothing changes, and the marks stay for another try.
        await pilot.press("s", "enter")
        await screen_of(pilot, Confirm)
        assert dialog(app)[1] == question
        await pilot.press("n")
        await screen_of(pilot, MainScreen)
        await app.workers.wait_for_complete()
        assert tui_firm.invoice_status(tui_firm.draft_invoice) is InvoiceStatus.DRAFT
        assert table.marked == {tui_firm.draft_invoice, tui_firm.final_invoice}

        await pilot.press("s", "enter")
        await screen_of(pilot, Confirm)
        assert dialog(app)[1] == question
        await pilot.press("y")
        done, _ = await answer_summary(pilot)
        assert done == "Shared 2 of 2 marked items."
        await until(
            pilot,
            lambda: not table.marked and cell(table, tui_firm.draft_invoice, "Status") == "Final",
            "the list to show the invoice Final",
        )
    assert tui_firm.invoice_status(tui_firm.draft_invoice) is InvoiceStatus.FINAL
    assert tui_firm.share(ItemKind.INVOICE, tui_firm.draft_invoice).wanted


async def test_s7_bulk_unshare(tui_firm: TuiFirm) -> None:
    items = [tui_firm.event]
    repo = tui_firm.repo(ADMIN)
    for title in ("Valuation meeting", "Court date"):
        items.append(repo.add_event(tui_firm.on_matter, title=title, starts_at=_when()))
    for item in items:
        tui_firm.share_now(ItemKind.EVENT, item)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await activities(pilot, ItemKind.EVENT)
        await mark(pilot, table, *items)
        await pilot.press("s")
        await screen_of(pilot, ActionMenu)
        await pilot.press("down", "enter")  # Unshare 3 marked
        await screen_of(pilot, Confirm)
        assert dialog(app) == (
            "Unshare via Client Portal",
            "Unshare 3 marked items from the client portal?",
        )
        await pilot.press("y")
        done, refused = await answer_summary(pilot)
        assert done == "Unshared 3 of 3 marked items."
        assert "Not changed" not in refused
        await until(pilot, lambda: not any(r.share.wanted for r in table.rows_shown), "icons")
    assert not any(tui_firm.share(ItemKind.EVENT, i).wanted for i in items)


def _when() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 12, 2, 10, tzinfo=UTC)


async def test_s0_marks_are_kept_by_id_when_the_list_is_read_again(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await activities(pilot, ItemKind.NOTE)
        await mark(pilot, table, tui_firm.note, tui_firm.off_note)
        await mark(pilot, table, tui_firm.off_note)  # Space on a marked row unmarks it...
        assert table.marked == {tui_firm.note}
        assert status_line(app).endswith("1 marked")
        await mark(pilot, table, tui_firm.off_note)  # ...and once more marks it
        # A filter that hides a marked row, then clears: the marks are still there, by id.
        await pilot.press("slash", *"Ada")
        await until(pilot, lambda: len(table.rows_shown) == 1, "the filtered list")
        await pilot.press("escape")
        await until(pilot, lambda: len(table.rows_shown) == 3, "the whole list again")
        await loaded(table, pilot)
        assert table.marked == {tui_firm.note, tui_firm.off_note}
        assert mark_cell(table, tui_firm.off_note) == app.glyphs.marked
        assert mark_cell(table, tui_firm.narrow_note) == " "


async def test_ascii_marks_use_the_ascii_glyph(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(ascii_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await activities(pilot, ItemKind.NOTE)
        await mark(pilot, table, tui_firm.note)
        assert mark_cell(table, tui_firm.note) == ">"


async def test_r1_billing_user_is_not_offered_a_bulk_share_of_notes(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(BILLING)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await activities(pilot, ItemKind.NOTE)
        await mark(pilot, table, tui_firm.note)
        await move_to(pilot, table, tui_firm.note)
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        assert options(app) == ["Edit", texts.SHARE_HISTORY]
        await pilot.press("escape")
        await screen_of(pilot, MainScreen)
        await pilot.press("s")  # a direct attempt: refused with the reason, as for one row
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == "Your role (Billing) may not share or unshare notes."
        await pilot.press("enter")
    assert not tui_firm.share(ItemKind.NOTE, tui_firm.note).wanted


async def test_s0_many_marks_are_one_question_chunked_work_and_one_batch(
    tui_firm: TuiFirm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marks are ids: a bulk of many rows reads none of them to start; the work goes in
    chunks and the bar shows how far it got."""
    repo = tui_firm.repo(ADMIN)
    extra = [repo.add_task(tui_firm.on_matter, title=f"Task {i}") for i in range(40)]
    monkeypatch.setattr(bulk, "CHUNK", 16)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await activities(pilot, ItemKind.TASK)
        table.marked.update(extra)  # as 40 presses of Space would leave them
        await pilot.press("s", "enter")
        await screen_of(pilot, Confirm)
        assert dialog(app)[1] == "Share 40 marked items via the client portal?"
        await pilot.press("y")
        done, _ = await answer_summary(pilot)
        assert done == "Shared 40 of 40 marked items."
    batches = {r.batch for r in outbox(tui_firm) if r.op is OutboxOp.PUBLISH}
    assert len(batches) == 1
