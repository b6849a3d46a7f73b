"""Setup > Firm Settings > Client Portal, driven by keyboard as staff would: who may change the
firm's settings (F1), the firm switch and its confirmation (F2, F6), the permission boxes and
what they do to every matter (F3, F4), and the three email settings (F5) — each checked in the
repository afterwards."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, OptionList, Static

from portal_tui.domain import Category, ItemKind, Refused, texts
from portal_tui.domain.states import TwoFactorRequirement
from portal_tui.tui.common.modals import Confirm
from portal_tui.tui.matters.main_screen import MainScreen
from portal_tui.tui.setup.firm_portal_settings import FirmPortalSettings, box_id

from .helpers import ADMIN, BILLING, NORMAL, READER, SIZE, AppPilot, TuiFirm, dialog, screen_text
from .pilot import click_option, screen_of, shown, started, until


async def firm_settings(pilot: AppPilot) -> FirmPortalSettings:
    """`3` > Client Portal (Enter): the firm's settings shown, the focus in them if it may."""
    app = pilot.app
    await pilot.press("3")
    nav = app.screen.query_one("#setup-nav", OptionList)
    assert nav.has_focus, "3 should put the focus on Setup's navigation"
    assert nav.highlighted == 0
    assert str(nav.get_option_at_index(0).prompt) == "Client Portal"
    panel = app.screen.query_one(FirmPortalSettings)
    await until(pilot, panel.loaded.is_set, "the firm's settings")
    await pilot.press("enter")
    await pilot.pause()
    return panel


def box(panel: FirmPortalSettings, setting: str, category: Category | None = None) -> Checkbox:
    return panel.query_one(f"#{box_id(setting, category)}", Checkbox)


def message(panel: FirmPortalSettings) -> str:
    return str(panel.query_one("#firm-message", Static).content)


async def tab_to(pilot: AppPilot, target: Checkbox) -> None:
    for _ in range(14):
        if target.has_focus:
            return
        await pilot.press("tab")
    raise AssertionError(f"Tab does not reach {target}")


# F1 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", [BILLING, READER])
async def test_f1_billing_and_read_only_see_the_settings_disabled_and_why(
    tui_firm: TuiFirm, login: str
) -> None:
    app = tui_firm.app(login)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        panel = await firm_settings(pilot)
        await shown(pilot, texts.ROLE_CANNOT_CHANGE_FIRM)
        boxes = list(panel.query(Checkbox))
        assert len(boxes) == 1 + 7 + 3 + 2  # the switch, categories, emails, two-factor
        assert all(b.disabled for b in boxes)
        # Enter found nothing it may change: the focus stays on the navigation.
        assert app.screen.query_one("#setup-nav", OptionList).has_focus
        notes = box(panel, "", Category.NOTES)
        await pilot.click(f"#{notes.id}")
        await pilot.pause()
        assert notes.value is True
        assert Category.NOTES in tui_firm.system.firm_portal().permissions

    # A direct attempt, past the screen, is refused by the repository anyway.
    with pytest.raises(Refused) as refused:
        tui_firm.repo(login).set_firm_portal(permissions=[Category.INVOICES])
    assert refused.value.message == texts.ROLE_CANNOT_CHANGE_FIRM
    assert Category.NOTES in tui_firm.system.firm_portal().permissions


async def test_f1_normal_user_changes_the_settings(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(NORMAL)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        panel = await firm_settings(pilot)
        assert texts.ROLE_CANNOT_CHANGE_FIRM not in screen_text(app)
        switch = box(panel, "enabled")
        assert switch.has_focus and not switch.disabled  # Enter moved into the settings
        digest = box(panel, "daily_digest")
        await tab_to(pilot, digest)
        await pilot.press("space")
        await until(pilot, lambda: tui_firm.system.firm_portal().daily_digest, "the save")
        expected = texts.FIRM_SETTINGS_SAVED.format(changes="daily digest on")
        await until(pilot, lambda: message(panel) == expected, "the saved message")


async def test_setup_is_reached_by_mouse_too(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await click_option(pilot, 2, "#nav")
        await click_option(pilot, 0, "#setup-nav")
        panel = app.screen.query_one(FirmPortalSettings)
        await until(pilot, panel.loaded.is_set, "the firm's settings")
        await pilot.click(f"#{box_id('notify_new_items')}")
        await until(
            pilot, lambda: not tui_firm.system.firm_portal().notify_new_items, "the click's save"
        )
        assert app.location == "Setup > Firm Settings > Client Portal"


# F2, F6 -----------------------------------------------------------------------------------------


async def test_f2_f6_turning_the_firm_off_asks_no_keeps_it_on_yes_turns_it_off(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        panel = await firm_settings(pilot)
        switch = box(panel, "enabled")
        assert switch.has_focus and switch.value is True  # F2: ON by default

        await pilot.press("space")
        await screen_of(pilot, Confirm)
        assert dialog(app) == ("Client Portal", texts.FIRM_OFF_CONFIRM)
        assert app.focused is not None and app.focused.id == "no"  # the safe choice
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), "the question to close")
        await until(pilot, lambda: switch.value is True, "the switch to go back")
        assert tui_firm.system.firm_portal().enabled is True
        assert message(panel) == ""

        await pilot.press("space")
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await until(pilot, lambda: not tui_firm.system.firm_portal().enabled, "the switch OFF")
        assert switch.value is False
        expected = texts.FIRM_SETTINGS_SAVED.format(changes="client portal OFF for the firm")
        await until(pilot, lambda: message(panel) == expected, "the saved message")
        # Nothing the firm holds is deleted, and nothing more can be shared (F6).
        assert tui_firm.count(ItemKind.NOTE, tui_firm.on_matter) == 1
        with pytest.raises(Refused) as refused:
            tui_firm.repo(ADMIN).share(ItemKind.NOTE, tui_firm.note)
        assert refused.value.message == texts.FIRM_PORTAL_OFF

        # Back ON needs no question.
        await pilot.press("space")
        await until(pilot, lambda: tui_firm.system.firm_portal().enabled, "the switch ON")
        assert isinstance(app.screen, MainScreen)


# F3, F4 -----------------------------------------------------------------------------------------


async def test_f3_f4_unchecking_notes_at_firm_level_saves_and_no_matter_can_share_a_note(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        panel = await firm_settings(pilot)
        labels = [str(b.label) for b in panel.query(Checkbox)][1:8]
        assert labels == [c.label for c in Category]  # F3: one box per category
        assert all(box(panel, "", c).value for c in Category)  # F3: all checked
        notes = box(panel, "", Category.NOTES)
        for _ in range(4):  # Down moves from setting to setting
            await pilot.press("down")
        assert notes.has_focus
        await pilot.press("space")
        await until(
            pilot,
            lambda: Category.NOTES not in tui_firm.system.firm_portal().permissions,
            "the save",
        )
        expected = texts.FIRM_SETTINGS_SAVED.format(changes="Notes unchecked")
        await until(pilot, lambda: message(panel) == expected, "the saved message")
        await shown(pilot, texts.FIRM_SETTINGS_SAVED.format(changes="Notes unchecked"))

    # F4: the matter permits Notes, the firm does not: a note cannot be shared.
    assert Category.NOTES in tui_firm.system.matter(tui_firm.on_matter).permissions
    with pytest.raises(Refused) as refused:
        tui_firm.repo(ADMIN).share(ItemKind.NOTE, tui_firm.note)
    assert "Setup > Firm Settings > Client Portal" in refused.value.message
    assert not tui_firm.share(ItemKind.NOTE, tui_firm.note).wanted


# F5 ---------------------------------------------------------------------------------------------


async def test_f5_the_three_email_settings_are_saved(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        panel = await firm_settings(pilot)
        before = tui_firm.system.firm_portal()
        assert (before.notify_new_items, before.daily_digest, before.notify_staff_on_upload) == (
            True,
            False,
            True,
        )
        for setting in ("notify_new_items", "daily_digest", "notify_staff_on_upload"):
            await tab_to(pilot, box(panel, setting))
            await pilot.press("space")

        def saved() -> bool:
            firm = tui_firm.system.firm_portal()
            return (firm.notify_new_items, firm.daily_digest, firm.notify_staff_on_upload) == (
                False,
                True,
                False,
            )

        await until(pilot, saved, "the three email settings")
        await until(pilot, lambda: "upload emails off" in message(panel), "the saved message")

    # Shown as saved the next time Setup is opened.
    again = tui_firm.app(ADMIN)
    async with again.run_test(size=SIZE) as pilot:
        await started(again, pilot)
        panel = await firm_settings(pilot)
        assert [box(panel, s).value for s in ("notify_new_items", "daily_digest")] == [
            False,
            True,
        ]
        assert box(panel, "notify_staff_on_upload").value is False


async def test_the_firm_requires_two_factor_of_sensitive_matters_or_of_every_client(
    tui_firm: TuiFirm,
) -> None:
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        panel = await firm_settings(pilot)
        await tab_to(pilot, box(panel, "two_factor_sensitive"))
        await pilot.press("space")
        await until(
            pilot,
            lambda: (
                tui_firm.system.firm_portal().two_factor_required is TwoFactorRequirement.SENSITIVE
            ),
            "required for sensitive matters",
        )
        await until(
            pilot,
            lambda: "two-factor sign-in required for sensitive matters" in message(panel),
            "the saved message",
        )
        await pilot.press("up")  # Up and Down move between the settings
        assert box(panel, "two_factor_all").has_focus
        await pilot.press("space")
        await until(
            pilot,
            lambda: tui_firm.system.firm_portal().two_factor_required is TwoFactorRequirement.ALL,
            "required of every client",
        )
