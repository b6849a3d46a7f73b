"""Setup > Staff, driven by keyboard as staff would (R1): an Admin adds a staff user, changes
a role and disables one, each checked in the repository afterwards; the repository's own
refusals (disabling oneself, a login taken) show with its exact words and change nothing; a
Billing user sees the list read-only, its keys not offered and refused when pressed."""

from __future__ import annotations

from textual.widgets import Input, OptionList

from portal_tui.domain import StaffRole, texts
from portal_tui.tui.common.modals import ActionMenu, Confirm, Notice
from portal_tui.tui.setup.staff_form import StaffForm
from portal_tui.tui.setup.staff_pane import StaffPane

from .helpers import ADMIN, BILLING, NORMAL, SIZE, AppPilot, TuiFirm, dialog, options, screen_text
from .pilot import screen_of, shown, started, until


async def staff_list(pilot: AppPilot) -> StaffPane:
    """`3`, Down to Staff, Enter: the list shown with the focus in it."""
    app = pilot.app
    await pilot.press("3")
    nav = app.screen.query_one("#setup-nav", OptionList)
    while str(nav.get_option_at_index(nav.highlighted or 0).prompt) != "Staff":
        await pilot.press("down")
    pane = app.screen.query_one(StaffPane)
    await until(pilot, pane.loaded.is_set, "the staff list")
    await pilot.press("enter")
    await until(pilot, lambda: pane.table.has_focus, "the focus in the staff list")
    assert app.location == "Setup > Staff"  # type: ignore[attr-defined]
    return pane


async def select(pilot: AppPilot, pane: StaffPane, login: str) -> None:
    """Down (or Up) until the cursor is on `login`."""
    logins = [row.login for row in pane.rows]
    while pane.table.cursor_row != logins.index(login):
        await pilot.press("down" if pane.table.cursor_row < logins.index(login) else "up")
    assert pane.current is not None and pane.current.login == login


def footer_keys(pilot: AppPilot) -> set[str]:
    return {
        active.binding.id or ""
        for active in pilot.app.screen.active_bindings.values()
        if active.binding.show
    }


async def test_an_admin_sees_every_staff_user_and_adds_one(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await staff_list(pilot)
        shown = screen_text(app)
        for name in ("Avery Admin", "Jo Normal", "Bea Billing", "Rae Reader"):
            assert name in shown
        assert "bbilling@firm.test" in shown and "Read-only" in shown and "Active" in shown
        assert {"staff.add", "staff.role", "staff.disable"} <= footer_keys(pilot)

        await pilot.press("a")
        form = await screen_of(pilot, StaffForm)
        assert form.query_one("#staff-login", Input).has_focus
        await pilot.press(*"mkay", "enter", *"Max Kay", "enter", *"max@firm.test")
        role = form.query_one("#staff-role")
        role.focus()
        await pilot.press("enter", "down", "enter")  # from Normal to Billing, below it
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, StaffForm), "the form to close")
        await until(pilot, lambda: "mkay" in [r.login for r in pane.rows], "the new row")
        await pilot.pause()
        assert pane.current is not None and pane.current.login == "mkay"
        await until(pilot, lambda: "Max Kay" in screen_text(app), "the new row painted")

    added = tui_firm.system.staff_user("mkay")
    assert (added.name, added.email, added.role, added.active) == (
        "Max Kay",
        "max@firm.test",
        StaffRole.BILLING,
        True,
    )


async def test_a_login_taken_is_refused_in_its_words_and_the_form_keeps_what_was_typed(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await staff_list(pilot)
        await pilot.press("a")
        form = await screen_of(pilot, StaffForm)
        await pilot.press(*NORMAL, "enter", *"Another Jo", "enter", *"jo2@firm.test", "enter")
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == texts.STAFF_TAKEN.format(login=NORMAL)
        await pilot.press("enter")
        await screen_of(pilot, StaffForm)
        assert form.query_one("#staff-name", Input).value == "Another Jo"
        # Esc with something typed asks first; No keeps the form.
        await pilot.press("escape")
        await screen_of(pilot, Confirm)
        assert dialog(app)[1] == texts.DISCARD_QUESTION
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (StaffForm, Confirm)), "closed")
    assert tui_firm.system.staff_user(NORMAL).name == "Jo Normal"
    assert len(tui_firm.system.list_staff()) == 4


async def test_an_admin_changes_a_role(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await staff_list(pilot)
        await select(pilot, pane, NORMAL)
        await pilot.press("r")
        await screen_of(pilot, ActionMenu)
        assert options(app) == ["Admin", "Normal (now)", "Billing", "Read-only"]
        await pilot.press("down", "down", "down", "enter")  # Read-only
        await until(
            pilot,
            lambda: tui_firm.system.staff_user(NORMAL).role is StaffRole.READ_ONLY,
            "the role saved",
        )
        await until(
            pilot,
            lambda: pane.current is not None and pane.current.role is StaffRole.READ_ONLY,
            "the list shows it",
        )


async def test_an_admin_disables_a_staff_user_after_confirming(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await staff_list(pilot)
        await select(pilot, pane, NORMAL)
        await pilot.press("d")
        await screen_of(pilot, Confirm)
        title, question = dialog(app)
        assert title == "Disable staff user" and "jnormal (Jo Normal)" in question
        await pilot.press("n")  # No: nothing changes
        await until(pilot, lambda: not isinstance(app.screen, Confirm), "the question closed")
        assert tui_firm.system.staff_user(NORMAL).active
        await pilot.press("d")
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await until(pilot, lambda: not tui_firm.system.staff_user(NORMAL).active, "the save")
        await until(
            pilot,
            lambda: pane.current is not None and not pane.current.active,
            "the list shows it",
        )
        # The row is repainted on the next refresh, not in the same tick as the data.
        await until(pilot, lambda: "Disabled" in screen_text(app), "the row to say Disabled")

        # And enabled again: `d` on a disabled user asks to enable.
        await pilot.press("d")
        await screen_of(pilot, Confirm)
        assert dialog(app)[0] == "Enable staff user"
        await pilot.press("y")
        await until(pilot, lambda: tui_firm.system.staff_user(NORMAL).active, "enabled again")


async def test_an_admin_is_refused_disabling_themselves(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await staff_list(pilot)
        await select(pilot, pane, ADMIN)
        await pilot.press("d")
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await screen_of(pilot, Notice)
        assert dialog(app) == ("Staff", texts.STAFF_NOT_YOURSELF)
        await pilot.press("enter")
        await until(pilot, lambda: pane.table.has_focus, "back in the list")
        assert pane.current is not None and pane.current.active
    assert tui_firm.system.staff_user(ADMIN).active


async def test_a_billing_user_sees_the_list_read_only(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(BILLING)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        pane = await staff_list(pilot)
        await shown(pilot, "Avery Admin")
        await shown(pilot, texts.STAFF_ADMIN_ONLY)
        assert not {"staff.add", "staff.role", "staff.disable"} & footer_keys(pilot)
        await select(pilot, pane, NORMAL)
        for key in "ard":
            await pilot.press(key)
            await screen_of(pilot, Notice)
            assert dialog(app) == ("Staff", texts.STAFF_ADMIN_ONLY)
            await pilot.press("enter")
            await until(pilot, lambda: pane.table.has_focus, "back in the list")
    assert tui_firm.system.staff_user(NORMAL).active
    assert tui_firm.system.staff_user(NORMAL).role is StaffRole.NORMAL
    assert len(tui_firm.system.list_staff()) == 4
