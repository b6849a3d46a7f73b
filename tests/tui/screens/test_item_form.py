"""S2: the Add and Edit screens of events, tasks and notes. Their Details section holds the
"Share via Client Portal" box; Save applies it, unchecking and saving unshares, and editing
other fields of a shared item keeps it shared (the client gets the new version)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Checkbox, Input, Label, TextArea

from portal_tui.domain import ItemKind, ShareState, texts
from portal_tui.tui.common.modals import Confirm, Notice
from portal_tui.tui.matter.item_form import ItemForm
from portal_tui.tui.matter.matter_details import MatterDetails

from ..helpers import BILLING, SIZE, AppPilot, Table, TuiFirm, cell, dialog, glyph, row_index
from ..pilot import (
    activities,
    loaded,
    matter_section,
    move_to,
    open_matter,
    screen_of,
    started,
    until,
)

# kind: (Matter Details section, the title field, the title column, the other required fields)
KINDS: dict[ItemKind, tuple[str, str, str, dict[str, str]]] = {
    ItemKind.EVENT: ("calendar", "title", "Title", {"starts_at": "2026-12-09 10:00"}),
    ItemKind.TASK: ("tasks", "title", "Task", {"due_on": "2026-12-10"}),
    ItemKind.NOTE: ("notes", "subject", "Subject", {"body": "Spoke about the house."}),
}


def fill(form: ItemForm, values: dict[str, str]) -> None:
    """Put text in the form's fields (typing each letter would only test Textual's Input)."""
    for name, value in values.items():
        widget = form.query_one(f"#f-{name}")
        if isinstance(widget, TextArea):
            widget.text = value
        else:
            assert isinstance(widget, Input)
            widget.value = value


async def toggle_share(pilot: AppPilot, form: ItemForm, *, by_tab: bool = False) -> bool:
    """Space on the Details section's box; `by_tab` reaches it with Tab first, as a keyboard
    user does (else it is focused directly: Tab order is checked once, not every time)."""
    box = form.query_one("#share", Checkbox)
    if by_tab:
        for _ in range(8):
            if box.has_focus:
                break
            await pilot.press("tab")
        assert box.has_focus, "Tab should reach the Share via Client Portal box"
    else:
        box.focus()
        await pilot.pause()
    before = box.value
    await pilot.press("space")
    assert box.value is not before
    return box.value


def details_section(form: ItemForm) -> Checkbox:
    """The Details section's heading and its box, in that order, with the seed's words."""
    labels = [str(label.content) for label in form.query(Label)]
    assert "Details" in labels
    box = form.query_one("#share", Checkbox)
    assert str(box.label) == "Share via Client Portal"
    return box


async def save(pilot: AppPilot, table: Table) -> None:
    await pilot.press("ctrl+s")
    await screen_of(pilot, MatterDetails)
    await loaded(table, pilot)


def titled(table: Table, field: str, title: str) -> Any:
    rows = [row for row in table.rows_shown if getattr(row, field) == title]
    return rows[0] if rows else None


@pytest.mark.parametrize("kind", list(KINDS), ids=lambda k: k.value)
async def test_s2_add_checked_edit_keeps_shared_uncheck_unshares(
    tui_firm: TuiFirm, kind: ItemKind
) -> None:
    section, title_field, title_column, required = KINDS[kind]
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        table = await matter_section(pilot, section)

        # Add, with the box checked: shared once saved.
        await pilot.press("n")
        form: ItemForm = await screen_of(pilot, ItemForm)
        assert form.row is None
        assert details_section(form).value is False
        fill(form, {title_field: "Meet the valuer", **required})
        assert await toggle_share(pilot, form, by_tab=kind is ItemKind.NOTE) is True
        await save(pilot, table)
        await until(pilot, lambda: titled(table, title_field, "Meet the valuer"), "the new row")
        item_id = titled(table, title_field, "Meet the valuer").id
        share = tui_firm.share(kind, item_id)
        assert share.wanted and share.state is ShareState.PENDING
        assert cell(table, item_id, "share") == glyph(app, share) == app.glyphs.pending
        version = tui_firm.record(kind, item_id).version

        # Edit another field of the shared item: still shared, the new text published.
        assert table.has_focus
        await move_to(pilot, table, item_id)
        await pilot.press("e")
        form = await screen_of(pilot, ItemForm)
        assert form.row is not None and form.row.id == item_id
        assert details_section(form).value is True
        fill(form, {title_field: "Meet the valuer at 10"})
        await save(pilot, table)
        await until(
            pilot,
            lambda: cell(table, item_id, title_column) == "Meet the valuer at 10",
            "the edited row",
        )
        assert tui_firm.share(kind, item_id).wanted
        assert tui_firm.record(kind, item_id).version > version  # published again
        assert cell(table, item_id, "share") == glyph(app, tui_firm.share(kind, item_id))

        # Edit, uncheck, save: unshared.
        await move_to(pilot, table, item_id)
        await pilot.press("enter")  # Enter opens an event, task or note in its Edit screen
        form = await screen_of(pilot, ItemForm)
        assert details_section(form).value is True
        assert await toggle_share(pilot, form) is False
        await save(pilot, table)
        await until(
            pilot,
            lambda: not table.rows_shown[row_index(table, item_id)].share.wanted,
            "the row to show unshared",
        )
        share = tui_firm.share(kind, item_id)
        assert not share.wanted
        assert cell(table, item_id, "share") == glyph(app, share)
        assert cell(table, item_id, "share") != app.glyphs.shared
        assert cell(table, item_id, title_column) == "Meet the valuer at 10"


async def test_s2_edit_without_touching_the_box_leaves_an_unshared_item_unshared(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        table = await matter_section(pilot, "tasks")
        await move_to(pilot, table, tui_firm.task)
        await pilot.press("e")
        form: ItemForm = await screen_of(pilot, ItemForm)
        assert details_section(form).value is False
        fill(form, {"title": "Sign the inventory today"})
        await save(pilot, table)
        await until(
            pilot,
            lambda: cell(table, tui_firm.task, "Task") == "Sign the inventory today",
            "the edited row",
        )
        assert not tui_firm.share(ItemKind.TASK, tui_firm.task).wanted
        assert cell(table, tui_firm.task, "share") == " "


async def test_m1_s2_add_shared_note_on_portal_off_matter_is_refused(tui_firm: TuiFirm) -> None:
    """Save with the box checked on a portal-OFF matter: the M1 message, and no note added."""
    before = tui_firm.count(ItemKind.NOTE, tui_firm.off_matter)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.off_matter)
        await matter_section(pilot, "notes")
        await pilot.press("n")
        form: ItemForm = await screen_of(pilot, ItemForm)
        fill(form, {"subject": "Probate papers", "body": "Sent."})
        await toggle_share(pilot, form)
        await pilot.press("ctrl+s")
        await screen_of(pilot, Notice)
        assert dialog(app) == (texts.SHARE_VIA_PORTAL, texts.MATTER_PORTAL_OFF)
        await pilot.press("enter")
        assert await screen_of(pilot, ItemForm) is form  # the form stays, to fix or cancel
        await pilot.press("escape")  # what was typed is not thrown away without a question
        await screen_of(pilot, Confirm)
        assert dialog(app)[0] == texts.DISCARD_TITLE
        await pilot.press("y")
        await screen_of(pilot, MatterDetails)
    assert tui_firm.count(ItemKind.NOTE, tui_firm.off_matter) == before


async def test_r1_billing_edit_screen_does_not_offer_the_share_box(tui_firm: TuiFirm) -> None:
    """A Billing user may edit a note but not share it: the box is there, disabled."""
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    app = tui_firm.app(BILLING)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        notes = await activities(pilot, ItemKind.NOTE)
        await move_to(pilot, notes, tui_firm.note)
        await pilot.press("e")
        form: ItemForm = await screen_of(pilot, ItemForm)
        box = details_section(form)
        assert box.value is True
        assert box.disabled
        await pilot.press("escape")
    assert tui_firm.share(ItemKind.NOTE, tui_firm.note).wanted


@pytest.mark.parametrize("kind", list(KINDS), ids=lambda k: k.value)
async def test_a_save_after_someone_elses_is_refused_naming_them_and_offers_to_reload(
    tui_firm: TuiFirm, kind: ItemKind
) -> None:
    section, title_field, title_column, _ = KINDS[kind]
    item_id = {ItemKind.EVENT: tui_firm.event, ItemKind.TASK: tui_firm.task}.get(
        kind, tui_firm.note
    )
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        table = await matter_section(pilot, section)
        await move_to(pilot, table, item_id)
        await pilot.press("e")
        form: ItemForm = await screen_of(pilot, ItemForm)

        # Another staff member saves the same item while this form is open.
        other = tui_firm.repo("jnormal")
        other.edit_item(kind, item_id, **{title_field: "Their title"})

        fill(form, {title_field: "My title"})
        await pilot.press("ctrl+s")
        await screen_of(pilot, Confirm)
        title, message = dialog(app)
        assert title == "Not saved"
        assert message.startswith(f"Jo Normal changed this {kind.label} at ")
        assert "your changes were not saved" in message
        # Their edit stands; nothing of this one was written.
        assert getattr(tui_firm.row(kind, item_id), title_field) == "Their title"

        await pilot.press("y")  # Reload
        form = await screen_of(pilot, ItemForm)
        shown = form.query_one(f"#f-{title_field}")
        value = shown.text if isinstance(shown, TextArea) else shown.value  # type: ignore[attr-defined]
        assert value == "Their title"
        fill(form, {title_field: "Both our titles"})
        await save(pilot, table)
        await until(
            pilot,
            lambda: cell(table, item_id, title_column) == "Both our titles",
            "the saved row",
        )
    assert getattr(tui_firm.row(kind, item_id), title_field) == "Both our titles"


async def test_s2_an_all_day_box_swaps_the_times_for_days_and_the_event_is_saved_on_them(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await open_matter(pilot, tui_firm.on_matter)
        table = await matter_section(pilot, "calendar")
        await pilot.press("n")
        form: ItemForm = await screen_of(pilot, ItemForm)

        def shown(name: str) -> bool:
            return bool(form.query_one(f"#f-{name}").display)

        assert shown("starts_at") and not shown("first_day")  # timed, until ticked
        box = form.query_one("#f-all_day", Checkbox)
        assert str(box.label) == texts.ALL_DAY
        box.focus()
        await pilot.press("space")
        await until(pilot, lambda: shown("first_day"), "the day fields")
        assert shown("last_day") and not shown("starts_at") and not shown("ends_at")

        # A blank day is named in the form, and nothing is saved.
        before = tui_firm.count(ItemKind.EVENT, tui_firm.on_matter)
        fill(form, {"title": "Court closed", "starts_at": "not a time"})  # hidden: ignored
        await pilot.press("ctrl+s")
        error = form.query_one("#form-error")
        await until(pilot, lambda: "Day cannot be blank." in str(error.render()), "the error")
        # Days that do not agree: the repository's one message, nothing saved, the form kept.
        fill(form, {"first_day": "2026-12-24", "last_day": "2026-12-23"})
        await pilot.press("ctrl+s")
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == "An event cannot end before it starts."
        await pilot.press("enter")
        assert await screen_of(pilot, ItemForm) is form
        assert tui_firm.count(ItemKind.EVENT, tui_firm.on_matter) == before

        fill(form, {"last_day": "2026-12-27"})
        await save(pilot, table)
        await until(pilot, lambda: titled(table, "title", "Court closed"), "the new row")
        row = titled(table, "title", "Court closed")
        assert (row.all_day, row.first_day.isoformat(), row.last_day.isoformat()) == (
            True,
            "2026-12-24",
            "2026-12-27",
        )
        assert cell(table, row.id, "Starts") == f"2026-12-24 {texts.ALL_DAY}"

        # Edit opens it ticked, on its days; unticked, it is a timed event again.
        await move_to(pilot, table, row.id)
        await pilot.press("e")
        form = await screen_of(pilot, ItemForm)
        assert form.query_one("#f-all_day", Checkbox).value is True
        assert shown("first_day") and not shown("starts_at")
        assert form.query_one("#f-last_day", Input).value == "2026-12-27"
        form.query_one("#f-all_day", Checkbox).focus()
        await pilot.press("space")
        await until(pilot, lambda: shown("starts_at"), "the time fields")
        fill(form, {"starts_at": "2026-12-24 09:30", "ends_at": ""})
        await save(pilot, table)
        await until(
            pilot, lambda: cell(table, row.id, "Starts") == "2026-12-24 09:30", "the timed row"
        )
    event = tui_firm.row(ItemKind.EVENT, row.id)
    assert (event.all_day, event.first_day, event.last_day) == (False, None, None)
