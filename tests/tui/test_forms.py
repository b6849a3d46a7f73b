"""Matter Details > Forms, driven by keyboard: Action > Share via Client Portal, then Share
(S4), each missing condition of S4 named and nothing changed, and what clients submitted —
their answers and what the processing rule changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import OptionList

from portal_tui.domain import Category, FormRule, ItemKind, texts
from portal_tui.tui.app import PortalApp
from portal_tui.tui.common.modals import ActionMenu, Notice
from portal_tui.tui.matter.form_submissions import FormSubmissions, SubmissionsView
from portal_tui.tui.matter.matter_details import MatterDetails
from portal_tui.tui.sharing.form_share import FormShare

from .helpers import ADMIN, SIZE, AppPilot, Table, TuiFirm, cell, dialog, options, screen_text
from .pilot import choose, matter_section, move_to, open_matter, screen_of, started, until

FIELDS = [
    {"key": "email", "label": "Email address", "type": "email", "target": "client.primary_email"},
    {"key": "phone", "label": "Best phone number", "type": "phone", "target": "client.phone"},
    {"key": "pets", "label": "Pets at home", "type": "text"},
]
SUBMITTED_AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def add_form(firm: TuiFirm, matter_id: int, name: str = "Client details") -> int:
    return firm.repo(ADMIN).add_form(
        name, fields=FIELDS, rule=FormRule.ASSOCIATE, matter_id=matter_id
    )


async def forms_of(pilot: AppPilot, firm: TuiFirm, matter_id: int, form_id: int) -> Table:
    await open_matter(pilot, matter_id)
    forms = await matter_section(pilot, "forms")
    await move_to(pilot, forms, form_id)
    return forms


async def share_screen(pilot: AppPilot) -> FormShare:
    """Action > Share via Client Portal: the form's Share screen."""
    app = pilot.app
    assert isinstance(app, PortalApp)
    await pilot.press("a")
    await screen_of(pilot, ActionMenu)
    offered = options(app)
    assert "Submissions" in offered
    await choose(pilot, app.screen.query_one(OptionList), offered.index(texts.SHARE_VIA_PORTAL))
    share: FormShare = await screen_of(pilot, FormShare)
    return share


async def test_s4_share_a_form_then_share(tui_firm: TuiFirm) -> None:
    form = add_form(tui_firm, tui_firm.on_matter)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        forms = await forms_of(pilot, tui_firm, tui_firm.on_matter, form)
        assert cell(forms, form, "share") == " "

        screen = await share_screen(pilot)
        assert app.focused is not None and app.focused.id == "cancel"  # the safe choice
        await until(pilot, lambda: "Estate of Byrne" in screen_text(app), "the matter shown")
        shown = screen_text(app)
        for words in ("Client details", "Associate with an existing matter", "2026-0003"):
            assert words in shown
        line_with(app, "Field", "Type", "Fills")
        line_with(app, "Email address", "Email", "Client primary")
        assert "Pets at home" in shown
        assert "ON  |  Forms permitted" in shown
        assert screen.form.id == form

        await pilot.press("shift+tab", "enter")  # Cancel -> Share
        await screen_of(pilot, MatterDetails)
        await until(pilot, lambda: tui_firm.share(ItemKind.FORM, form).wanted, "the share")
        await until(
            pilot, lambda: cell(forms, form, "share") == app.glyphs.pending, "the shared icon"
        )
        # Shared: the menu now offers to unshare, with no Share screen in between.
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        assert texts.UNSHARE_VIA_PORTAL in options(app)
        assert texts.SHARE_VIA_PORTAL not in options(app)


@pytest.mark.parametrize("key", ["escape", "n", "enter"])
async def test_s4_cancel_on_the_share_screen_changes_nothing(tui_firm: TuiFirm, key: str) -> None:
    form = add_form(tui_firm, tui_firm.on_matter)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        forms = await forms_of(pilot, tui_firm, tui_firm.on_matter, form)
        await share_screen(pilot)
        await pilot.press(key)  # Esc, n, or Enter on the focused Cancel
        await screen_of(pilot, MatterDetails)
        await pilot.pause()
        assert not tui_firm.share(ItemKind.FORM, form).wanted
        assert cell(forms, form, "share") == " "


async def test_s4_y_shares_from_the_share_screen(tui_firm: TuiFirm) -> None:
    form = add_form(tui_firm, tui_firm.on_matter)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        forms = await forms_of(pilot, tui_firm, tui_firm.on_matter, form)
        await pilot.press("s")  # the toolbar's share key opens the same Share screen
        await screen_of(pilot, FormShare)
        await pilot.press("y")
        await until(
            pilot, lambda: cell(forms, form, "share") == app.glyphs.pending, "the shared icon"
        )


@pytest.mark.parametrize("missing", ["rule", "portal", "permission"])
async def test_s4_a_missing_condition_is_named_and_nothing_changes(
    tui_firm: TuiFirm, missing: str
) -> None:
    admin = tui_firm.repo(ADMIN)
    if missing == "portal":
        matter, message = tui_firm.off_matter, texts.FORM_NEEDS_PORTAL
        form = add_form(tui_firm, matter)
    elif missing == "permission":
        matter, message = tui_firm.narrow_matter, texts.FORM_NEEDS_PERMISSION
        admin.set_matter_permissions(matter, [c for c in Category if c is not Category.FORMS])
        form = add_form(tui_firm, matter)
    else:
        # Its rule changed to "create a new matter" since it was made for this one.
        matter, message = tui_firm.on_matter, texts.FORM_NEEDS_ASSOCIATE_RULE
        form = add_form(tui_firm, matter)
        admin.edit_item(ItemKind.FORM, form, rule=FormRule.CREATE)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        forms = await forms_of(pilot, tui_firm, matter, form)
        await share_screen(pilot)
        await pilot.press("y")
        await screen_of(pilot, Notice)
        assert dialog(app) == (texts.SHARE_VIA_PORTAL, message)
        await pilot.press("enter")
        await screen_of(pilot, MatterDetails)
        assert not tui_firm.share(ItemKind.FORM, form).wanted
        assert tui_firm.system.share_record(ItemKind.FORM, form) is None
        assert cell(forms, form, "share") == " "


def body_of(app: PortalApp) -> str:
    return screen_text(app)


def line_with(app: PortalApp, *words: str) -> str:
    """The one line of the screen that holds every one of `words`, in that order."""
    for line in screen_text(app).splitlines():
        at = 0
        for word in words:
            at = line.find(word, at)
            if at < 0:
                break
            at += len(word)
        else:
            return line
    raise AssertionError(f"no line shows {words!r}:\n{screen_text(app)}")


async def test_s4_a_submission_shows_its_answers_and_what_the_rule_changed(
    tui_firm: TuiFirm,
) -> None:
    form = add_form(tui_firm, tui_firm.on_matter)
    tui_firm.repo().record_form_submission(
        form,
        portal_ref="sub-1",
        answers={"email": "ada.new@example.test", "phone": "", "pets": "Two [cats]"},
        submitted_by="Ada Byrne",
        submitted_at=SUBMITTED_AT,
    )
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await forms_of(pilot, tui_firm, tui_firm.on_matter, form)
        await pilot.press("enter")  # Enter on a form: its submissions
        screen = await screen_of(pilot, FormSubmissions)
        view = screen.query_one(SubmissionsView)
        await until(pilot, lambda: view.loaded.is_set(), "the submissions")
        await until(pilot, lambda: "Answers" in body_of(app), "the submission shown")

        shown = screen_text(app)
        assert "Submissions: Client details" in shown
        assert "Ada Byrne" in shown
        assert "2026-11-02" in shown
        line_with(app, "Email address", "ada.new@example.test")
        line_with(app, "Best phone number", "(blank)")
        line_with(app, "Pets at home", "Two [cats]")  # client data as written, never markup
        line_with(app, "Applied to matter: 2026-0003")
        line_with(app, "Field", "Was", "Now")
        line_with(app, "Client primary email", "ada@example.test", "ada.new@example.test")
        assert "Client phone" not in screen_text(app)  # a blank answer changes nothing

        await pilot.press("escape")
        await screen_of(pilot, MatterDetails)


async def test_s4_submissions_from_the_action_menu_and_a_matter_created(tui_firm: TuiFirm) -> None:
    """A form whose rule creates a matter: its submission names the matter it made."""
    form = add_form(tui_firm, tui_firm.on_matter, "New client intake")
    tui_firm.repo(ADMIN).edit_item(ItemKind.FORM, form, rule=FormRule.CREATE)
    made = tui_firm.repo().record_form_submission(
        form,
        portal_ref="sub-2",
        answers={"email": "bo@example.test", "pets": "None"},
        submitted_by="Bo Quinn",
        submitted_at=SUBMITTED_AT,
    )
    assert made.matter_id is not None and made.matter_id != tui_firm.on_matter
    number = tui_firm.system.matter(made.matter_id).number
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await forms_of(pilot, tui_firm, tui_firm.on_matter, form)
        await pilot.press("a")
        await screen_of(pilot, ActionMenu)
        await choose(pilot, app.screen.query_one(OptionList), options(app).index("Submissions"))
        await screen_of(pilot, FormSubmissions)
        await until(pilot, lambda: "Matter created" in body_of(app), "the submission shown")
        line_with(app, f"Matter created: {number}")
        line_with(app, "Client primary email", "(blank)", "bo@example.test")


async def test_s4_no_submissions_yet_says_so(tui_firm: TuiFirm) -> None:
    form = add_form(tui_firm, tui_firm.on_matter)
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await forms_of(pilot, tui_firm, tui_firm.on_matter, form)
        await pilot.press("enter")
        await screen_of(pilot, FormSubmissions)
        await until(pilot, lambda: "No submissions yet" in body_of(app), "the empty list")
