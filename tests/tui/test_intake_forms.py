"""Setup > Intake Forms, by keyboard only: define a form — its name, a choice field, a required
email field that fills the client's primary email, and the rule that associates it with an
existing matter (S4) — see it in the list and in Matter Details > Forms of that matter; edit
and reorder its fields; and invalid input refused with one clear message, nothing saved."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input, OptionList, Select, Static, TextArea

from portal_tui.domain import FormRule, ItemKind, texts
from portal_tui.tui.common.item_table import ItemTable
from portal_tui.tui.common.modals import Confirm, Notice
from portal_tui.tui.matters.main_screen import MainScreen
from portal_tui.tui.setup.intake_form_editor import (
    FieldEditor,
    FieldsTable,
    IntakeFormEditor,
    MatterPicker,
)
from portal_tui.tui.setup.intake_forms_pane import IntakeFormsPane

from .helpers import ADMIN, SIZE, AppPilot, Table, TuiFirm, cell, dialog, glyph, ids
from .pilot import loaded, matter_section, open_matter, screen_of, shown, started, until

EMAIL = {"key": "email", "label": "Email", "type": "email", "target": "client.primary_email"}


async def intake_forms(pilot: AppPilot) -> Table:
    """`3` > Down to Intake Forms > Enter: the list, with the focus."""
    app = pilot.app
    await pilot.press("3")
    nav = app.screen.query_one("#setup-nav", OptionList)
    assert nav.has_focus
    await pilot.press("down", "enter")
    await pilot.pause()
    table = app.screen.query_one(IntakeFormsPane).table
    assert table.has_focus
    return await loaded(table, pilot)


async def type_text(pilot: AppPilot, words: str) -> None:
    await pilot.press(*(c if c != " " else "space" for c in words))


async def tab_to(pilot: AppPilot, widget_id: str) -> None:
    app = pilot.app
    for _ in range(12):
        if app.focused is not None and app.focused.id == widget_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"Tab does not reach #{widget_id} (focus on {app.focused})")


async def pick(pilot: AppPilot, select_id: str, prompt: str) -> None:
    """A focused Select: Enter opens it, Down to the option, Enter takes it."""
    app = pilot.app
    select = app.screen.query_one(f"#{select_id}", Select)
    assert select.has_focus
    await pilot.press("enter")
    overlay = select.query_one(OptionList)
    for _ in range(12):
        index = overlay.highlighted
        if index is not None and str(overlay.get_option_at_index(index).prompt) == prompt:
            break
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()
    assert str(select.selection) == prompt or select.value is not Select.NULL


async def add_field(
    pilot: AppPilot,
    label: str,
    type_label: str,
    *,
    choices: tuple[str, ...] = (),
    required: bool = False,
    fills: str | None = None,
) -> None:
    """On the fields list: `n`, then the field's box, filled by keyboard, Ctrl+S."""
    app = pilot.app
    assert isinstance(app.focused, FieldsTable)
    await pilot.press("n")
    await screen_of(pilot, FieldEditor)
    await type_text(pilot, label)
    await tab_to(pilot, "fe-type")
    await pick(pilot, "fe-type", type_label)
    if choices:
        await tab_to(pilot, "fe-choices")
        for i, choice in enumerate(choices):
            if i:
                await pilot.press("enter")
            await type_text(pilot, choice)
    if required:
        await tab_to(pilot, "fe-required")
        await pilot.press("space")
    if fills is not None:
        await tab_to(pilot, "fe-target")
        await pick(pilot, "fe-target", fills)
    await pilot.press("ctrl+s")
    await screen_of(pilot, IntakeFormEditor)


def field_rows(editor: Any) -> list[list[str]]:
    table = editor.query_one(FieldsTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_s4_define_an_intake_form_by_keyboard(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await intake_forms(pilot)
        assert app.location == "Setup > Intake Forms"
        assert ids(table) == []

        await pilot.press("n")
        editor = await screen_of(pilot, IntakeFormEditor)
        assert isinstance(app.focused, Input) and app.focused.id == "ife-name"
        await type_text(pilot, "New client details")
        await pilot.press("tab")
        await type_text(pilot, "Tell us about you")
        await tab_to(pilot, "ife-rule")
        assert editor.query_one("#ife-rule", Select).value is FormRule.ASSOCIATE

        # The matter: Choose... > type to filter > Enter to the list > Enter picks.
        await tab_to(pilot, "ife-choose")
        await pilot.press("enter")
        picker = await screen_of(pilot, MatterPicker)
        await type_text(pilot, "Byrne")
        matters = picker.query_one(ItemTable)
        await until(pilot, lambda: ids(matters) == [tui_firm.on_matter], "the filtered matters")
        await pilot.press("enter", "enter")
        await screen_of(pilot, IntakeFormEditor)
        matter_line = str(editor.query_one("#ife-matter", Static).content)
        assert matter_line == "2026-0003 Estate of Byrne (Ada Byrne)"

        await tab_to(pilot, "ife-fields")
        await add_field(pilot, "Contact method", "Choice", choices=("Phone", "Email"))
        await add_field(pilot, "Email", "Email", required=True, fills="Client primary email")
        assert field_rows(editor) == [
            ["Contact method", "Choice (2)", "", ""],
            ["Email", "Email", "Yes", "Client primary email"],
        ]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the editor to close")
        await until(pilot, lambda: len(ids(table)) == 1, "the new form in the list")

        form = tui_firm.system.list_intake_forms().rows[0]
        assert (form.name, form.description) == ("New client details", "Tell us about you")
        assert (form.rule, form.matter_id) == (FormRule.ASSOCIATE, tui_firm.on_matter)
        choice, email = form.fields
        assert (choice.label, choice.type, choice.choices) == (
            "Contact method",
            "choice",
            ("Phone", "Email"),
        )
        assert (choice.required, choice.target) == (False, None)
        assert (email.label, email.type, email.required, email.target) == (
            "Email",
            "email",
            True,
            "client.primary_email",
        )
        assert len({choice.key, email.key}) == 2
        assert cell(table, form.id, "Form") == "New client details"
        assert cell(table, form.id, "Matter") == "2026-0003"
        assert cell(table, form.id, "Fields") == "2"
        assert cell(table, form.id, "Submissions") == "0"

        # And in Matter Details > Forms of that matter.
        await open_matter(pilot, tui_firm.on_matter)
        forms = await matter_section(pilot, "forms")
        assert ids(forms) == [form.id]
        assert cell(forms, form.id, "Form") == "New client details"


async def test_s4_edit_a_form_reorder_and_remove_fields_and_create_a_new_matter(
    tui_firm: TuiFirm,
) -> None:
    form_id = tui_firm.repo(ADMIN).add_form(
        "Enquiry",
        fields=[
            EMAIL,
            {"key": "phone", "label": "Phone", "type": "phone", "target": "client.phone"},
            {"key": "notes", "label": "Notes", "type": "multiline"},
        ],
        rule=FormRule.ASSOCIATE,
        matter_id=tui_firm.on_matter,
    )
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await intake_forms(pilot)
        assert ids(table) == [form_id]
        await pilot.press("enter")  # Enter on a form edits it
        editor = await screen_of(pilot, IntakeFormEditor)
        assert editor.query_one("#ife-name", Input).value == "Enquiry"

        await tab_to(pilot, "ife-rule")
        await pick(pilot, "ife-rule", "Create a new matter")
        assert not editor.query_one("#ife-matter-row").display  # no matter to pick

        await tab_to(pilot, "ife-fields")
        fields = editor.query_one(FieldsTable)
        assert fields.cursor_row == 0
        await pilot.press("J")  # Email down one
        assert [r[0] for r in field_rows(editor)] == ["Phone", "Email", "Notes"]
        assert fields.cursor_row == 1
        await pilot.press("down", "x")  # remove Notes
        assert [r[0] for r in field_rows(editor)] == ["Phone", "Email"]
        await pilot.press("K")  # Email back up
        assert [r[0] for r in field_rows(editor)] == ["Email", "Phone"]

        # e edits the highlighted field; its key stays, so past answers still match it.
        await pilot.press("e")
        await screen_of(pilot, FieldEditor)
        label = app.screen.query_one("#fe-label", Input)
        assert label.value == "Email"
        label.value = ""
        await type_text(pilot, "Your email")
        await pilot.press("ctrl+s")
        await screen_of(pilot, IntakeFormEditor)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the editor to close")

        form = tui_firm.system.intake_form(form_id)
        assert (form.rule, form.matter_id) == (FormRule.CREATE, None)
        assert [(f.key, f.label) for f in form.fields] == [
            ("email", "Your email"),
            ("phone", "Phone"),
        ]
        await until(pilot, lambda: cell(table, form_id, "Processing rule") == "New matter", "row")
        assert cell(table, form_id, "Matter") == ""


async def test_s4_invalid_form_is_refused_with_its_message_and_nothing_saved(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await intake_forms(pilot)
        await pilot.press("n")
        editor = await screen_of(pilot, IntakeFormEditor)

        # No name (the rule creating a new matter needs no matter).
        await tab_to(pilot, "ife-rule")
        await pick(pilot, "ife-rule", "Create a new matter")
        await pilot.press("ctrl+s")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Intake Form", "Form name cannot be blank.")
        await pilot.press("enter")
        await screen_of(pilot, IntakeFormEditor)

        # Associate, with no matter chosen.
        await tab_to(pilot, "ife-name")
        await type_text(pilot, "Intake")
        await tab_to(pilot, "ife-rule")
        await pick(pilot, "ife-rule", "Associate with an existing matter")
        await pilot.press("ctrl+s")
        await screen_of(pilot, Notice)
        assert dialog(app) == (
            "Intake Form",
            "A form that associates with an existing matter must name the matter.",
        )
        await pilot.press("enter")
        await screen_of(pilot, IntakeFormEditor)

        # A choice field without choices: its box says why and keeps it out of the form.
        await tab_to(pilot, "ife-fields")
        await pilot.press("n")
        field_box = await screen_of(pilot, FieldEditor)
        await type_text(pilot, "Contact method")
        await tab_to(pilot, "fe-type")
        await pick(pilot, "fe-type", "Choice")
        assert field_box.query_one("#fe-choices", TextArea).display
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is field_box
        error = str(field_box.query_one("#fe-error", Static).content)
        assert error == "Choice field 'Contact method' needs at least one choice."
        await pilot.press("escape")  # what was typed is not thrown away without a question
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await screen_of(pilot, IntakeFormEditor)
        assert field_rows(editor) == []

        await pilot.press("escape")  # Cancel: the name typed is not thrown away unasked
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the editor to close")
    assert tui_firm.system.list_intake_forms().rows == ()
    assert tui_firm.count(ItemKind.FORM, tui_firm.on_matter) == 0


async def test_s4_form_names_are_shown_as_typed(tui_firm: TuiFirm) -> None:
    tui_firm.repo(ADMIN).add_form(
        "[b]Intake[/b]", fields=[EMAIL], rule=FormRule.ASSOCIATE, matter_id=tui_firm.off_matter
    )
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await intake_forms(pilot)
        await shown(pilot, "[b]Intake[/b]")
        await pilot.press("enter")
        editor = await screen_of(pilot, IntakeFormEditor)
        matter_line = str(editor.query_one("#ife-matter", Static).content)
        assert matter_line == "2026-0002 Estate of Smith (Smith [Deceased])"
        assert isinstance(editor.query_one(FieldsTable), DataTable)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the editor to close")
        assert len(ids(table)) == 1


async def test_s0_s4_a_shared_form_shows_its_icon_and_keeps_its_matter(tui_firm: TuiFirm) -> None:
    form_id = tui_firm.repo(ADMIN).add_form(
        "Enquiry", fields=[EMAIL], rule=FormRule.ASSOCIATE, matter_id=tui_firm.on_matter
    )
    tui_firm.share_now(ItemKind.FORM, form_id)
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = await intake_forms(pilot)
        assert cell(table, form_id, "share") == glyph(app, tui_firm.share(ItemKind.FORM, form_id))
        assert cell(table, form_id, "share") != " "
        await pilot.press("e")
        await screen_of(pilot, IntakeFormEditor)
        await tab_to(pilot, "ife-rule")
        await pick(pilot, "ife-rule", "Create a new matter")
        await pilot.press("ctrl+s")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Intake Form", texts.FORM_SHARED_CANNOT_MOVE)
    form = tui_firm.system.intake_form(form_id)
    assert (form.rule, form.matter_id) == (FormRule.ASSOCIATE, tui_firm.on_matter)
    assert form.share.wanted
