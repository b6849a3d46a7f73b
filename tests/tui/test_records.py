"""Clients, matters and contacts kept from the keyboard, as staff would (R1, M4, C1): New and
Edit matter from the Matters list (`n`, `e`), its client chosen from a filterable list where a
new one can be added, its responsible staff user shown in the list; New and Edit client in
Setup > Clients; closing a matter whose portal is ON asking whether to turn it off too (Yes
and No); Edit Contact in Matter Details > Client Portal. Bad input shows in the form, nothing
saved; Read-only staff are not offered any of it. The repository is checked afterwards."""

from __future__ import annotations

from textual.widgets import Button, Input, OptionList, Select

from portal_tui.domain import ItemKind, MatterStatus, texts
from portal_tui.tui.common.item_table import ItemTable
from portal_tui.tui.common.modals import Confirm, Notice
from portal_tui.tui.matter.edit_contact import EditContact
from portal_tui.tui.matters.client_picker import ClientPicker
from portal_tui.tui.matters.main_screen import MainScreen
from portal_tui.tui.matters.matter_form import MatterForm
from portal_tui.tui.setup.client_form import ClientForm
from portal_tui.tui.setup.clients_pane import ClientsPane

from .helpers import ADMIN, NORMAL, READER, SIZE, AppPilot, TuiFirm, cell, dialog
from .pilot import loaded, move_to, screen_of, shown, started, until
from .test_matter_portal import add_contact, contacts, portal_pane, tab_to
from .test_staff_screen import footer_keys


def matter_numbered(firm: TuiFirm, number: str) -> int | None:
    rows = firm.system.list_matters(number).rows
    return next((r.id for r in rows if r.number == number), None)


async def pick_client(pilot: AppPilot, form: MatterForm, typed: str) -> None:
    """From the form: Choose… > type to filter > Enter into the list > Enter on the first."""
    await tab_to(pilot, form.query_one("#matter-client", Button))
    await pilot.press("enter")
    picker = await screen_of(pilot, ClientPicker)
    await pilot.press(*typed)
    await until(
        pilot,
        lambda: (
            picker.table.loaded.is_set()
            and [r.name for r in picker.table.rows_shown][:1] == [typed]
        ),
        f"the list filtered to {typed}",
    )
    await pilot.press("enter", "enter")
    await screen_of(pilot, MatterForm)


async def select_option(pilot: AppPilot, select: Select[object], label: str) -> None:
    """Focus a Select, open it (Enter), Down or Up to the option, Enter."""
    select.focus()
    await pilot.press("enter")
    await pilot.pause()
    overlay = select.query_one(OptionList)
    prompts = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
    target = prompts.index(label)
    while overlay.highlighted != target:
        await pilot.press("down" if (overlay.highlighted or 0) < target else "up")
    await pilot.press("enter")
    await pilot.pause()


async def clients_list(pilot: AppPilot) -> ClientsPane:
    """`3`, Down to Clients, Enter: the list shown with the focus in it."""
    app = pilot.app
    await pilot.press("3")
    nav = app.screen.query_one("#setup-nav", OptionList)
    while str(nav.get_option_at_index(nav.highlighted or 0).prompt) != "Clients":
        await pilot.press("down")
    await pilot.press("enter")
    pane = app.screen.query_one(ClientsPane)
    await until(pilot, lambda: pane.table.has_focus, "the focus in the clients list")
    await loaded(pane.table, pilot)
    assert app.location == "Setup > Clients"  # type: ignore[attr-defined]
    return pane


# Matters -----------------------------------------------------------------------------------


async def test_r1_a_new_matter_from_the_keyboard_with_its_client_and_responsible(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app(NORMAL)
    async with app.run_test(size=SIZE) as pilot:
        table = await started(app, pilot)
        assert {"matters.new", "matters.edit"} <= footer_keys(pilot)
        await pilot.press("n")
        form = await screen_of(pilot, MatterForm)
        assert form.query_one("#matter-number", Input).has_focus
        await pilot.press(*"2026-0004", "enter", *"Will of Carla Diaz", "enter")
        await pick_client(pilot, form, "Carla Diaz")
        await select_option(pilot, form.query_one("#matter-responsible", Select), "Jo Normal")
        form.query_one("#matter-practice-area", Input).focus()
        await pilot.press(*"Probate", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the form to close")
        added = matter_numbered(tui_firm, "2026-0004")
        assert added is not None
        await until(pilot, lambda: added in [r.id for r in table.rows_shown], "the new row")
        await until(
            pilot, lambda: table.current is not None and table.current.id == added, "cursor"
        )
        assert cell(table, added, "Responsible") == "Jo Normal"
        assert "Matter 2026-0004 added." in [n.message for n in app._notifications]
    detail = tui_firm.system.matter(added)
    assert (detail.name, detail.client.name, detail.responsible_name, detail.practice_area) == (
        "Will of Carla Diaz",
        "Carla Diaz",
        "Jo Normal",
        "Probate",
    )
    assert (detail.status, detail.portal_enabled) == (MatterStatus.OPEN, False)


async def test_a_matter_with_bad_input_shows_why_in_the_form_and_nothing_is_saved(
    tui_firm: TuiFirm,
) -> None:
    before = len(tui_firm.system.list_matters().rows)
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("n")
        form = await screen_of(pilot, MatterForm)
        await pilot.press(*"2026-0001", "enter", *"Second lease", "ctrl+s")
        error = form.query_one("#form-error")
        await until(pilot, lambda: texts.MATTER_NEEDS_CLIENT in str(error.content), "no client")
        await pick_client(pilot, form, "Ada Byrne")
        await pilot.press("ctrl+s")
        taken = texts.MATTER_NUMBER_TAKEN.format(
            number="2026-0001", name="Lease of Unit 4", client="Carla Diaz"
        )
        await until(pilot, lambda: str(error.content) == taken, "the number refused")
        assert isinstance(app.screen, MatterForm)
        assert form.query_one("#matter-name", Input).value == "Second lease"  # kept
        # Esc with changes asks first; Discard leaves, nothing saved.
        await pilot.press("escape")
        await screen_of(pilot, Confirm)
        assert dialog(app)[1] == texts.DISCARD_QUESTION
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the form to close")
    assert len(tui_firm.system.list_matters().rows) == before


async def test_edit_matter_renames_it_and_a_new_client_is_added_from_the_picker(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        table = await started(app, pilot)
        await move_to(pilot, table, tui_firm.off_matter)
        await pilot.press("e")
        form = await screen_of(pilot, MatterForm)
        assert form.query_one("#matter-number", Input).value == "2026-0002"
        name = form.query_one("#matter-name", Input)
        name.focus()
        name.value = ""
        await pilot.press(*"Estate of Dan Eve")
        await tab_to(pilot, form.query_one("#matter-client", Button))
        await pilot.press("enter")
        await screen_of(pilot, ClientPicker)
        await pilot.press(*"Dan Eve", "ctrl+n")
        client_form = await screen_of(pilot, ClientForm)
        assert client_form.query_one("#client-name", Input).value == "Dan Eve"  # as typed
        await pilot.press("tab", *"dan@example.test", "ctrl+s")
        await screen_of(pilot, MatterForm)
        await shown(pilot, "Dan Eve")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the form to close")
        await until(
            pilot,
            lambda: cell(table, tui_firm.off_matter, "Matter") == "Estate of Dan Eve",
            "the list to show the new name",
        )
    detail = tui_firm.system.matter(tui_firm.off_matter)
    assert (detail.name, detail.client.name, detail.client.primary_email) == (
        "Estate of Dan Eve",
        "Dan Eve",
        "dan@example.test",
    )


async def _close(pilot: AppPilot, firm: TuiFirm, answer: str) -> None:
    app = pilot.app
    table = await started(app, pilot)  # type: ignore[arg-type]
    await move_to(pilot, table, firm.on_matter)
    await pilot.press("e")
    form = await screen_of(pilot, MatterForm)
    await select_option(pilot, form.query_one("#matter-status", Select), "Closed")
    await pilot.press("ctrl+s")
    await screen_of(pilot, Confirm)
    assert dialog(app) == (  # type: ignore[arg-type]
        "Close matter",
        texts.MATTER_CLOSE_PORTAL_OFF.format(number="2026-0003"),
    )
    await pilot.press(answer)
    await until(pilot, lambda: isinstance(app.screen, MainScreen), "the form to close")


async def test_m4_closing_a_matter_with_its_portal_on_asks_and_yes_turns_it_off(
    tui_firm: TuiFirm,
) -> None:
    tui_firm.share_now(ItemKind.NOTE, tui_firm.note)
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await _close(pilot, tui_firm, "y")
        table = app.screen.query_one("#matters ItemTable", ItemTable)
        await until(
            pilot,
            lambda: not cell(table, tui_firm.on_matter, "Client").startswith(app.glyphs.portal),
            "the portal icon to go (M3)",
        )
        assert cell(table, tui_firm.on_matter, "Status") == "Closed"
    detail = tui_firm.system.matter(tui_firm.on_matter)
    assert (detail.status, detail.portal_enabled) == (MatterStatus.CLOSED, False)
    assert tui_firm.share(ItemKind.NOTE, tui_firm.note).wanted  # the mark is kept


async def test_m4_closing_a_matter_with_no_leaves_its_portal_on(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await _close(pilot, tui_firm, "n")
    detail = tui_firm.system.matter(tui_firm.on_matter)
    assert (detail.status, detail.portal_enabled) == (MatterStatus.CLOSED, True)


# Clients -----------------------------------------------------------------------------------


async def test_new_and_edit_client_in_setup_with_a_bad_email_refused_in_the_form(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app(NORMAL)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await clients_list(pilot)
        assert [r.name for r in pane.table.rows_shown] == [
            "Ada Byrne",
            "Carla Diaz",
            "Smith [Deceased]",
        ]
        await shown(pilot, "Smith [Deceased]")  # client text shown as typed
        assert {"clients.add", "clients.edit"} <= footer_keys(pilot)
        await pilot.press("a")
        form = await screen_of(pilot, ClientForm)
        await pilot.press(*"Dan Eve", "enter", *"dan.example.test", "ctrl+s")
        error = form.query_one("#client-error")
        bad = texts.CLIENT_BAD_EMAIL.format(email="dan.example.test")
        await until(pilot, lambda: str(error.content) == bad, "the email refused")
        email = form.query_one("#client-primary_email", Input)
        email.value = "dan@example.test"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ClientForm), "the form to close")
        await until(pilot, lambda: "Dan Eve" in [r.name for r in pane.table.rows_shown], "row")

        # Enter on a client edits it.
        await move_to(pilot, pane.table, pane.table.rows_shown[0].id)  # Ada Byrne
        await pilot.press("enter")
        edit = await screen_of(pilot, ClientForm)
        assert edit.query_one("#client-name", Input).value == "Ada Byrne"
        edit.query_one("#client-phone", Input).focus()
        await pilot.press(*"+44 20 7946 0000", "ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, ClientForm), "the form to close")
    rows = tui_firm.system.list_clients("Dan").rows
    assert [(r.name, r.primary_email) for r in rows] == [("Dan Eve", "dan@example.test")]
    ada = tui_firm.system.list_clients("Ada Byrne").rows[0]
    assert ada.phone == "+44 20 7946 0000"


# Contacts ----------------------------------------------------------------------------------


async def test_c1_edit_contact_saves_name_and_email(tui_firm: TuiFirm) -> None:
    contact = add_contact(tui_firm, active=True)
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await portal_pane(pilot, tui_firm.on_matter)
        await tab_to(pilot, pane.query_one("#portal-edit", Button))
        await pilot.press("enter")
        form = await screen_of(pilot, EditContact)
        email = form.query_one("#contact-email", Input)
        email.focus()
        email.value = ""
        await pilot.press(*"not an email", "enter")
        error = form.query_one("#contact-error")
        bad = texts.CONTACT_BAD_EMAIL.format(email="not an email")
        await until(pilot, lambda: str(error.content) == bad, "the email refused")
        email.value = ""
        await pilot.press(*"ada.byrne@example.test", "enter")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Edit Contact", texts.CONTACT_SAVED.format(name="Ada Byrne"))
        await pilot.press("enter")
        await until(
            pilot,
            lambda: contacts(pane)[:1] and contacts(pane)[0][1] == "ada.byrne@example.test",
            "the list to show the new email",
        )
    row = tui_firm.system.contact(contact)
    assert (row.name, row.email) == ("Ada Byrne", "ada.byrne@example.test")


# R1 ----------------------------------------------------------------------------------------


async def test_r1_read_only_staff_are_not_offered_to_keep_matters_clients_or_contacts(
    tui_firm: TuiFirm,
) -> None:
    add_contact(tui_firm, active=False)
    app = tui_firm.app(READER)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        keys = footer_keys(pilot)
        assert not keys & {"matters.new", "matters.edit"}
        assert not app.screen.query("#matters #tb-new, #matters #tb-edit")
        await pilot.press("n", "e")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # nothing opened

        await clients_list(pilot)
        assert not footer_keys(pilot) & {"clients.add", "clients.edit"}
        await shown(pilot, texts.ROLE_CANNOT_KEEP_RECORDS)
        await pilot.press("a", "enter", "e")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)

        pane = await portal_pane(pilot, tui_firm.on_matter)
        assert pane.query_one("#portal-edit", Button).disabled
        assert "portal.edit-contact" not in footer_keys(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, EditContact)
