"""The sharing flows of the help article (docs/rules.md), driven through the app as staff
would drive them: S1 from Matter Details and from Activities, S3 for stored and linked
documents, the refusals of M1, S6 and R1 — each with the seed's exact words, and the
repository checked afterwards."""

from __future__ import annotations

import pytest
from textual.widgets import Button, TabbedContent

from portal_tui.domain import Category, InvoiceStatus, ItemKind, texts
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.list_pane import ListPane
from portal_tui.tui.common.modals import ActionMenu, Confirm, Notice
from portal_tui.tui.matter.matter_details import MatterDetails
from portal_tui.tui.matters.main_screen import MainScreen

from .helpers import (
    ADMIN,
    BILLING,
    READER,
    SIZE,
    AppPilot,
    Table,
    TuiFirm,
    cell,
    dialog,
    glyph,
    ids,
    options,
    row_index,
)
from .pilot import (
    activities,
    click_option,
    loaded,
    matter_section,
    move_to,
    open_matter,
    row_shared,
    screen_of,
    started,
    until,
)


async def share_draft_invoice(pilot: AppPilot, firm: TuiFirm, table: Table) -> None:
    """Highlight the Draft invoice, Action > Share via Client Portal, Yes, OK (S1)."""
    app = pilot.app
    assert isinstance(app, PortalApp)
    under = app.screen
    await move_to(pilot, table, firm.draft_invoice)
    assert cell(table, firm.draft_invoice, "Status") == "Draft"
    assert cell(table, firm.draft_invoice, "share") == " "

    await pilot.press("a")
    await screen_of(pilot, ActionMenu)
    assert options(app) == [texts.SHARE_VIA_PORTAL, texts.SHARE_HISTORY]
    await pilot.press("enter")

    await screen_of(pilot, Confirm)
    assert app.focused is not None and app.focused.id == "no"  # the safe choice
    assert dialog(app) == (
        "Share via Client Portal",
        "This is an Unfinal invoice. Invoice will be marked as Final once shared. Continue?",
    )
    await pilot.press("y")

    await screen_of(pilot, Notice)
    assert dialog(app) == ("Share via Client Portal", "Invoice has been shared successfully.")
    await pilot.press("enter")  # OK
    await until(pilot, lambda: app.screen is under, "the Notice to close")
    await pilot.pause()

    share = firm.share(ItemKind.INVOICE, firm.draft_invoice)
    assert share.wanted
    assert firm.invoice_status(firm.draft_invoice) is InvoiceStatus.FINAL
    assert cell(table, firm.draft_invoice, "share") == glyph(app, share)
    assert cell(table, firm.draft_invoice, "share") in (app.glyphs.pending, app.glyphs.shared)
    assert cell(table, firm.draft_invoice, "Status") == "Final"


async def unshare_invoice_from_menu(pilot: AppPilot, firm: TuiFirm, table: Table) -> None:
    """A shared invoice: Action offers Unshare via Client Portal; it stays Final (S1)."""
    app = pilot.app
    assert isinstance(app, PortalApp)
    await pilot.press("a")
    await screen_of(pilot, ActionMenu)
    assert options(app) == [texts.UNSHARE_VIA_PORTAL, texts.SHARE_HISTORY]
    await pilot.press("enter")
    await until(
        pilot,
        lambda: (
            not firm.share(ItemKind.INVOICE, firm.draft_invoice).wanted
            and cell(table, firm.draft_invoice, "share") != app.glyphs.shared
            and table.current is not None
            and not table.current.share.wanted
        ),
        "the unshare",
    )
    share = firm.share(ItemKind.INVOICE, firm.draft_invoice)
    assert cell(table, firm.draft_invoice, "share") == glyph(app, share)
    assert cell(table, firm.draft_invoice, "Status") == "Final"
    assert firm.invoice_status(firm.draft_invoice) is InvoiceStatus.FINAL

    await pilot.press("a")
    await screen_of(pilot, ActionMenu)
    assert options(app) == [texts.SHARE_VIA_PORTAL, texts.SHARE_HISTORY]
    await pilot.press("escape")


# S1 from Matter Details -----------------------------------------------------------------------


async def test_s1_invoice_from_matter_details_share_then_unshare(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        invoices = await matter_section(pilot, "billing")
        tabs = app.screen.query_one("#billing TabbedContent", TabbedContent)
        assert str(tabs.get_tab(tabs.active).label) == "Invoice"  # Billing > the Invoice tab

        await share_draft_invoice(pilot, tui_firm, invoices)
        await unshare_invoice_from_menu(pilot, tui_firm, invoices)


@pytest.mark.parametrize("key", ["n", "escape"])
async def test_s1_invoice_from_matter_details_no_changes_nothing(
    tui_firm: TuiFirm, key: str
) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        invoices = await matter_section(pilot, "billing")
        await move_to(pilot, invoices, tui_firm.draft_invoice)
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        await pilot.press("enter")
        await screen_of(pilot, Confirm)
        await pilot.press(key)
        await screen_of(pilot, MatterDetails)
        await app.workers.wait_for_complete()
        await pilot.pause()

        assert not tui_firm.share(ItemKind.INVOICE, tui_firm.draft_invoice).wanted
        assert tui_firm.invoice_status(tui_firm.draft_invoice) is InvoiceStatus.DRAFT
        assert cell(invoices, tui_firm.draft_invoice, "share") == " "
        assert cell(invoices, tui_firm.draft_invoice, "Status") == "Draft"


async def test_s1_invoice_from_matter_details_final_invoice_needs_no_question(
    tui_firm: TuiFirm,
) -> None:
    """A Final invoice is shared at once: no Unfinal question, straight to the message."""
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        invoices = await matter_section(pilot, "billing")
        await move_to(pilot, invoices, tui_firm.final_invoice)
        await pilot.press("s")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Share via Client Portal", texts.INVOICE_SHARED)
        await pilot.press("enter")
        await screen_of(pilot, MatterDetails)
        share = tui_firm.share(ItemKind.INVOICE, tui_firm.final_invoice)
        assert share.wanted
        assert cell(invoices, tui_firm.final_invoice, "share") == glyph(app, share)


# S1 from Activities ---------------------------------------------------------------------------


async def test_s1_invoice_from_activities_share_then_unshare(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        invoices = await activities(pilot, ItemKind.INVOICE)
        # Across all matters: the OFF matter's invoice is listed beside the ON matter's.
        assert {tui_firm.off_invoice, tui_firm.draft_invoice} <= set(ids(invoices))
        await share_draft_invoice(pilot, tui_firm, invoices)

        # S0: the icon shows in every list the invoice appears in — Matter Details too.
        await open_matter(pilot, tui_firm.on_matter)
        in_matter = await matter_section(pilot, "billing")
        share = tui_firm.share(ItemKind.INVOICE, tui_firm.draft_invoice)
        assert cell(in_matter, tui_firm.draft_invoice, "share") == glyph(app, share)
        await pilot.press("escape", "escape")  # the list, then the matter's tabs: out
        await screen_of(pilot, MainScreen)

        await activities(pilot, ItemKind.INVOICE)
        await move_to(pilot, invoices, tui_firm.draft_invoice)
        await unshare_invoice_from_menu(pilot, tui_firm, invoices)


async def test_s1_invoice_from_activities_no_changes_nothing(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        invoices = await activities(pilot, ItemKind.INVOICE)
        await move_to(pilot, invoices, tui_firm.draft_invoice)
        await pilot.press("s")  # the same path as Action > Share via Client Portal
        await screen_of(pilot, Confirm)
        assert dialog(app)[1] == texts.UNFINAL_INVOICE_CONFIRM
        await pilot.press("n")
        await screen_of(pilot, MainScreen)
        await app.workers.wait_for_complete()
        assert not tui_firm.share(ItemKind.INVOICE, tui_firm.draft_invoice).wanted
        assert tui_firm.invoice_status(tui_firm.draft_invoice) is InvoiceStatus.DRAFT
        assert cell(invoices, tui_firm.draft_invoice, "Status") == "Draft"


# S1 by mouse alone ------------------------------------------------------------------------------


async def test_s1_invoice_by_mouse_alone(tui_firm: TuiFirm) -> None:
    """The seed's steps, clicked: Matters, the matter, Details, Billing, the invoice, Action,
    Share via Client Portal, Yes, OK."""
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        matters = await started(app, pilot)
        await click_option(pilot, 0, "#nav")  # Matters
        row = tui_firm.on_matter
        assert await pilot.click(matters, offset=(4, 1 + row_index(matters, row)))
        await pilot.pause()
        assert matters.current is not None and matters.current.id == row
        assert await pilot.click("#tb-details")
        details = await screen_of(pilot, MatterDetails)
        assert details.matter_id == row

        await click_option(pilot, 1, "#matter-nav")  # Billing
        await pilot.pause()
        invoices = details.query_one("#invoices", ListPane).table
        await loaded(invoices, pilot)
        y = 1 + row_index(invoices, tui_firm.draft_invoice)
        assert await pilot.click(invoices, offset=(4, y))
        await pilot.pause()
        assert invoices.current is not None and invoices.current.id == tui_firm.draft_invoice

        assert await pilot.click("#invoices #tb-action")
        await screen_of(pilot, ActionMenu)
        assert options(app) == [texts.SHARE_VIA_PORTAL, texts.SHARE_HISTORY]
        await click_option(pilot, 0)
        await screen_of(pilot, Confirm)
        assert dialog(app)[1] == texts.UNFINAL_INVOICE_CONFIRM
        assert await pilot.click("#yes")
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == texts.INVOICE_SHARED
        assert await pilot.click("#ok")
        await screen_of(pilot, MatterDetails)

        share = tui_firm.share(ItemKind.INVOICE, tui_firm.draft_invoice)
        assert share.wanted
        assert cell(invoices, tui_firm.draft_invoice, "share") == glyph(app, share)
        assert cell(invoices, tui_firm.draft_invoice, "Status") == "Final"


# S3 documents ------------------------------------------------------------------------------------


async def test_s3_document_stored_and_linked(tui_firm: TuiFirm) -> None:
    """Toolbar Share — by keyboard (`s`, `y`) for the stored file, by mouse (the row, the
    Share button, Yes) for the linked one: the Share File question, Yes, the icon; then
    Unshare, offered for the shared file, the same way."""
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        details = await open_matter(pilot, tui_firm.on_matter)
        documents = await matter_section(pilot, "documents")
        button = details.query_one("#documents #tb-share", Button)
        for doc, source, by_mouse in (
            (tui_firm.stored_doc, "Stored", False),
            (tui_firm.linked_doc, "Linked", True),
        ):
            assert cell(documents, doc, "Source") == source
            for sharing in (True, False):
                if by_mouse:
                    assert await pilot.click(documents, offset=(4, 1 + row_index(documents, doc)))
                    await pilot.pause()
                    assert documents.current is not None and documents.current.id == doc
                else:
                    documents.focus()
                    await move_to(pilot, documents, doc)
                assert str(button.label) == ("Share" if sharing else "Unshare")
                if by_mouse:
                    assert await pilot.click(button)
                else:
                    await pilot.press("s")
                await screen_of(pilot, Confirm)
                question = texts.SHARE_FILE_CONFIRM if sharing else texts.UNSHARE_FILE_CONFIRM
                assert dialog(app) == ("Share File", question)
                if by_mouse:
                    assert await pilot.click("#yes")
                else:
                    await pilot.press("y")
                await screen_of(pilot, MatterDetails)
                await row_shared(pilot, documents, doc, sharing)
                share = tui_firm.share(ItemKind.DOCUMENT, doc)
                assert share.wanted is sharing
                assert cell(documents, doc, "share") == glyph(app, share)
                if sharing:
                    assert cell(documents, doc, "share") in (app.glyphs.pending, app.glyphs.shared)
                assert str(button.label) == ("Unshare" if sharing else "Share")
        assert texts.SHARE_FILE_CONFIRM == (
            "Are you sure you want to share the selected file via client portal?"
        )


# M1, S6: refusals --------------------------------------------------------------------------------


async def refused(pilot: AppPilot, message: str) -> None:
    """A Notice with the rule's message; OK closes it."""
    app = pilot.app
    assert isinstance(app, PortalApp)
    await screen_of(pilot, Notice)
    assert dialog(app)[1] == message
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, Notice), "the Notice to close")


async def test_m1_s6_refusals(tui_firm: TuiFirm) -> None:
    matter_off = texts.MATTER_PORTAL_OFF
    notes_not_permitted = texts.CATEGORY_NOT_PERMITTED_MATTER.format(category="Notes")
    assert "Notes" in notes_not_permitted
    assert "Matter Details > Client Portal" in notes_not_permitted
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        # M1: an invoice of a portal-OFF matter, by the Action menu — refused before any
        # question about finalising it.
        invoices = await activities(pilot, ItemKind.INVOICE)
        await move_to(pilot, invoices, tui_firm.off_invoice)
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        await pilot.press("enter")
        await refused(pilot, matter_off)
        assert not tui_firm.share(ItemKind.INVOICE, tui_firm.off_invoice).wanted
        assert tui_firm.invoice_status(tui_firm.off_invoice) is InvoiceStatus.DRAFT
        assert cell(invoices, tui_firm.off_invoice, "share") == " "
        assert cell(invoices, tui_firm.off_invoice, "Status") == "Draft"

        # M1: a note of the OFF matter, by `s`.
        notes = await activities(pilot, ItemKind.NOTE)
        await move_to(pilot, notes, tui_firm.off_note)
        await pilot.press("s")
        await refused(pilot, matter_off)
        assert not tui_firm.share(ItemKind.NOTE, tui_firm.off_note).wanted
        assert cell(notes, tui_firm.off_note, "share") == " "

        # S6: a note of a matter that does not permit Notes: the message names the category
        # and where to permit it.
        await move_to(pilot, notes, tui_firm.narrow_note)
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        assert options(app)[0] == texts.SHARE_VIA_PORTAL
        await pilot.press("enter")
        await refused(pilot, notes_not_permitted)
        assert not tui_firm.share(ItemKind.NOTE, tui_firm.narrow_note).wanted
        assert cell(notes, tui_firm.narrow_note, "share") == " "

        # M1 for documents too: a file on the OFF matter, after the Share File question.
        doc = tui_firm.off_doc
        await open_matter(pilot, tui_firm.off_matter)
        documents = await matter_section(pilot, "documents")
        await move_to(pilot, documents, doc)
        await pilot.press("s")
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await refused(pilot, matter_off)
        assert not tui_firm.share(ItemKind.DOCUMENT, doc).wanted


async def test_s6_category_not_permitted_at_firm_level(tui_firm: TuiFirm) -> None:
    """Tasks unchecked in the firm's settings: the message names Tasks and the firm's page."""
    repo = tui_firm.repo(ADMIN)
    repo.set_firm_portal(permissions=repo.firm_portal().permissions - {Category.TASKS})
    message = texts.CATEGORY_NOT_PERMITTED_FIRM.format(category="Tasks")
    assert message.startswith("Tasks are not permitted")
    assert "Setup > Firm Settings > Client Portal" in message
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        tasks = await activities(pilot, ItemKind.TASK)
        await move_to(pilot, tasks, tui_firm.task)
        await pilot.press("s")
        await refused(pilot, message)
        assert not tui_firm.share(ItemKind.TASK, tui_firm.task).wanted
        assert cell(tasks, tui_firm.task, "share") == " "


# R1 -----------------------------------------------------------------------------------------------


async def test_r1_billing_user_shares_invoices_but_not_notes(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(BILLING)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        notes = await activities(pilot, ItemKind.NOTE)
        await move_to(pilot, notes, tui_firm.note)
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        assert texts.SHARE_VIA_PORTAL not in options(app)
        assert texts.UNSHARE_VIA_PORTAL not in options(app)
        await pilot.press("escape")
        await screen_of(pilot, MainScreen)

        await pilot.press("s")  # a direct attempt: refused, with the reason
        await refused(pilot, "Your role (Billing) may not share or unshare notes.")
        assert not tui_firm.share(ItemKind.NOTE, tui_firm.note).wanted

        invoices = await activities(pilot, ItemKind.INVOICE)
        await move_to(pilot, invoices, tui_firm.final_invoice)
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        assert options(app) == [texts.SHARE_VIA_PORTAL, texts.SHARE_HISTORY]
        await pilot.press("enter")
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == texts.INVOICE_SHARED
        await pilot.press("enter")
        assert tui_firm.share(ItemKind.INVOICE, tui_firm.final_invoice).wanted


async def test_r1_read_only_can_share_nothing(tui_firm: TuiFirm) -> None:
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    app = tui_firm.app(READER)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        invoices = await activities(pilot, ItemKind.INVOICE)
        await move_to(pilot, invoices, tui_firm.draft_invoice)
        await pilot.press("a")  # nothing to share: the menu offers the share history alone
        await screen_of(pilot, ActionMenu)
        assert options(app) == [texts.SHARE_HISTORY]
        await pilot.press("escape")
        await screen_of(pilot, MainScreen)
        await pilot.press("s")
        await refused(pilot, "Your role (Read-only) may not share or unshare invoices.")
        assert tui_firm.invoice_status(tui_firm.draft_invoice) is InvoiceStatus.DRAFT

        notes = await activities(pilot, ItemKind.NOTE)
        await move_to(pilot, notes, tui_firm.note)
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        assert texts.UNSHARE_VIA_PORTAL not in options(app)
        await pilot.press("escape")
        await screen_of(pilot, MainScreen)
        await pilot.press("s")
        await refused(pilot, "Your role (Read-only) may not share or unshare notes.")
        assert tui_firm.share(ItemKind.NOTE, tui_firm.note).wanted  # still shared

        details = await open_matter(pilot, tui_firm.on_matter)
        documents = await matter_section(pilot, "documents")
        assert details.query_one("#documents #tb-share", Button).disabled  # not offered
        await move_to(pilot, documents, tui_firm.stored_doc)
        await pilot.press("s")  # a direct attempt: refused, with the reason
        await refused(pilot, "Your role (Read-only) may not share or unshare documents.")
        assert not tui_firm.share(ItemKind.DOCUMENT, tui_firm.stored_doc).wanted
