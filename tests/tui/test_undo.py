"""S8: an unshare (no box of the seed confirms it) shows a toast with Undo; Undo within the
5 s sends nothing to the portal and the row shows its share as it was; after 5 s the key is
gone from the footer. The embedded portal runs on loopback, its relay delivering as usual."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from portal_tui.config import load_settings
from portal_tui.domain import ItemKind, OutboxOp, ShareState, texts
from portal_tui.store.models import OutboxEntry
from portal_tui.tui.common.modals import Notice
from portal_tui.tui.matters.main_screen import MainScreen

from .helpers import SIZE, TuiFirm, cell, dialog, screen_text
from .pilot import activities, move_to, screen_of, started, until

DEADLINE_S = 30.0


def footer(app: object) -> str:
    return screen_text(app).splitlines()[-1]


def toasts(app: object) -> str:
    """What the toasts on screen say (the screen's lines above the footer)."""
    return "\n".join(screen_text(app).splitlines()[:-1])


def revokes(firm: TuiFirm, invoice: int) -> list[OutboxEntry]:
    with firm.system.db.read() as s:
        return list(
            s.scalars(
                select(OutboxEntry).where(
                    OutboxEntry.op == OutboxOp.REVOKE,
                    OutboxEntry.kind == ItemKind.INVOICE.value,
                    OutboxEntry.item_id == invoice,
                )
            )
        )


async def test_s8_undo_an_unshare_sends_nothing_and_the_row_stays_shared(
    tui_firm: TuiFirm, tmp_path: Path
) -> None:
    settings = load_settings(
        flags={},
        env={
            "PORTAL_TUI_DATA_DIR": str(tmp_path / "data"),
            "PORTAL_TUI_CONFIG": str(tmp_path / "none.toml"),
        },
    )
    app = tui_firm.app(settings=settings, deliver=True)
    invoice = tui_firm.final_invoice
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await started(app, pilot)
        await until(
            pilot,
            lambda: app.delivery is not None or app.delivery_problem,
            "the embedded portal to start",
            DEADLINE_S,
        )
        assert app.delivery_problem is None, app.delivery_problem
        invoices = await activities(pilot, ItemKind.INVOICE)
        await move_to(pilot, invoices, invoice)
        assert "u Undo" not in footer(app)

        # An invoice share keeps the seed's box, and offers no Undo.
        await pilot.press("s")
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == texts.INVOICE_SHARED
        await pilot.press("enter")
        await screen_of(pilot, MainScreen)
        assert "u Undo" not in footer(app)
        await until(
            pilot,
            lambda: cell(invoices, invoice, "share") == app.glyphs.shared,
            "the invoice to be delivered",
            DEADLINE_S,
        )
        before = tui_firm.record(ItemKind.INVOICE, invoice)

        # The unshare: a toast saying so, with its Undo key, also in the footer.
        await pilot.press("s")
        await until(pilot, lambda: not tui_firm.share(ItemKind.INVOICE, invoice).wanted, "unshare")
        await until(pilot, lambda: "u Undo" in footer(app), "the Undo key in the footer")
        await until(pilot, lambda: "u Undo" in toasts(app), "the toast")
        shown = toasts(app)
        assert texts.INVOICE_UNSHARED in " ".join(shown.split()), shown

        await pilot.press("u")
        undone = texts.ITEM_UNDONE.format(label="invoice")
        await until(pilot, lambda: undone in screen_text(app), "the status line to say so")
        await until(
            pilot,
            lambda: cell(invoices, invoice, "share") == app.glyphs.shared,
            "the row to show its share again",
        )
        status = [line for line in screen_text(app).splitlines() if undone in line]
        assert status, screen_text(app)
        assert tui_firm.record(ItemKind.INVOICE, invoice) == before
        assert tui_firm.share(ItemKind.INVOICE, invoice).state is ShareState.SHARED
        # Nothing was ever sent: the revoke is gone from the outbox, so no relay has it.
        assert revokes(tui_firm, invoice) == []
        await until(pilot, lambda: "u Undo" not in footer(app), "the used key to go")

        # Unshare again and wait out the 5 s: the key goes, and the unshare is delivered.
        await pilot.press("s")
        await until(pilot, lambda: "u Undo" in footer(app), "the Undo key again")
        await until(pilot, lambda: "u Undo" not in footer(app), "the key to go", DEADLINE_S)
        await pilot.press("u")  # no longer bound to anything: changes nothing
        await until(
            pilot,
            lambda: cell(invoices, invoice, "share") == " ",
            "the unshare to be delivered",
            DEADLINE_S,
        )
        share = tui_firm.share(ItemKind.INVOICE, invoice)
        assert not share.wanted and share.state is ShareState.NOT_SHARED
        assert [row.state.value for row in revokes(tui_firm, invoice)] == ["delivered"]


async def test_s8_undo_a_note_share_leaves_it_never_shared(tui_firm: TuiFirm) -> None:
    """A share no box of the seed confirms (a note's, with `s`) gets the same toast and key;
    Undo leaves the note as it was, never shared, with nothing in the outbox for it."""
    app = tui_firm.app()  # no relay: what an Undo leaves in the outbox is all there is
    note = tui_firm.note
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await started(app, pilot)
        notes = await activities(pilot, ItemKind.NOTE)
        await move_to(pilot, notes, note)
        await pilot.press("s")
        await until(pilot, lambda: "u Undo" in footer(app), "the Undo key in the footer")
        await until(pilot, lambda: "u Undo" in toasts(app), "the toast")
        shared = texts.ITEM_SHARED.format(label="note")
        assert shared in " ".join(toasts(app).split())
        assert cell(notes, note, "share") == app.glyphs.pending

        await pilot.press("u")
        undone = texts.ITEM_UNDONE.format(label="note")
        await until(pilot, lambda: undone in screen_text(app), "the status line to say so")
        await until(pilot, lambda: cell(notes, note, "share") == " ", "the icon to go")
        assert tui_firm.repo().share_record(ItemKind.NOTE, note) is None
        with tui_firm.system.db.read() as s:
            held = s.scalars(
                select(OutboxEntry).where(
                    OutboxEntry.kind == ItemKind.NOTE.value, OutboxEntry.item_id == note
                )
            ).all()
        assert held == []
        assert "u Undo" not in footer(app)
