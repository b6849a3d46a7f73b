"""SVG snapshots of Matter Details > Messages (the thread with a client reply, a message being
written) and of Forms' Share screen and Submissions screen, at 80x24 and 120x40; and the same
screens in ASCII mode draw only ASCII, with no blinking cursor.

The demo firm has no client reply and no form submission: each test records one on its own
copy of the firm, through the repository as sync does, before the app starts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from textual.widgets import TextArea

from portal_tui.domain.kinds import ItemKind
from portal_tui.repository import Repository
from portal_tui.tui.common.modals import ActionMenu
from portal_tui.tui.matter.form_submissions import FormSubmissions, SubmissionsView
from portal_tui.tui.matter.messages_section import MessagesSection
from portal_tui.tui.sharing.form_share import FormShare

from ..pilot import open_section, portal_app, press_until, settle, until, waited
from .conftest import FORMS_MATTER, MATTER, MakeApp
from .test_snapshots import SIZES, AnyPilot, Steps, drawn_text

REPLY_AT = datetime(2026, 11, 30, 16, 10, tzinfo=UTC)
SUBMITTED_AT = datetime(2026, 11, 30, 16, 20, tzinfo=UTC)
PROCESSED_AT = datetime(2026, 11, 30, 16, 21, tzinfo=UTC)


def _matter_id(repo: Repository, number: str) -> int:
    return next(m.id for m in repo.list_matters(limit=100).rows if m.number == number)


@pytest.fixture
def with_client_activity(firm_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client reply on MATTER and a submission of FORMS_MATTER's form, in the test's copy."""
    import portal_tui.repository.sync as sync

    monkeypatch.setattr(sync, "utcnow", lambda: PROCESSED_AT)
    system = Repository.open(firm_url)
    try:
        system.record_client_reply(
            _matter_id(system, MATTER),
            portal_ref="snapshot-reply",
            author_name="Aisha Okafor",
            body="Thank you. I can come in on Thursday morning to sign the papers.",
            sent_at=REPLY_AT,
        )
        forms_matter = _matter_id(system, FORMS_MATTER)
        (form,) = system.list_items(ItemKind.FORM, matter_id=forms_matter).rows
        system.record_form_submission(
            form.id,
            portal_ref="snapshot-submission",
            answers={
                "phone": "555-0142",
                "email": "linda.park@example.net",
                "address": "12 Harbour Road\nPort Ellis",
                "born": "1961-04-18",
                "marital": "Widowed",
            },
            submitted_by="Linda Park",
            submitted_at=SUBMITTED_AT,
        )
    finally:
        system.close()


async def _thread(pilot: AnyPilot) -> None:
    """The thread: the client's reply at the bottom, a message to them being written."""
    await open_section(pilot, "messages", MATTER)
    section = portal_app(pilot).screen.query_one(MessagesSection)
    await until(pilot, lambda: "Thursday" in drawn_text(portal_app(pilot)), "the reply")
    await pilot.press("n", *"Thursday at 10 suits us. Please bring your ID.")
    assert section.compose_box.has_focus
    await settle(pilot)


async def _form_share(pilot: AnyPilot) -> None:
    await open_section(pilot, "forms", FORMS_MATTER)
    await press_until(pilot, "a", ActionMenu, "the Action menu")
    await press_until(pilot, "enter", FormShare, "the Share screen")
    await until(pilot, lambda: "Client portal:" in drawn_text(portal_app(pilot)), "the matter")
    await settle(pilot)


async def _form_submissions(pilot: AnyPilot) -> None:
    await open_section(pilot, "forms", FORMS_MATTER)
    await press_until(pilot, "enter", FormSubmissions, "the Submissions screen")
    view = portal_app(pilot).screen.query_one(SubmissionsView)
    await waited(view.loaded)
    await until(pilot, lambda: "What it changed" in drawn_text(portal_app(pilot)), "the detail")
    await settle(pilot)


SCENES: dict[str, Steps] = {
    "messages-thread": _thread,
    "form-share": _form_share,
    "form-submissions": _form_submissions,
}


@pytest.mark.usefixtures("with_client_activity")
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SCENES)
def test_screen(name: str, size: str, make_app: MakeApp, snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=SCENES[name])


@pytest.mark.usefixtures("with_client_activity")
async def test_ascii_mode_draws_only_ascii_and_nothing_blinks(make_app: MakeApp) -> None:
    app = make_app(ascii_only=True)
    async with app.run_test(size=SIZES["80x24"]) as pilot:
        for name, steps in SCENES.items():
            await steps(pilot)
            text = drawn_text(app)
            strange = sorted({ch for ch in text if ord(ch) >= 128})
            assert not strange, f"{name}: non-ASCII on screen: {strange!r}\n{text}"
            for box in app.screen.query(TextArea):
                assert box.cursor_blink is False, f"{name}: {box!r} blinks"
            while len(app.screen_stack) > 2:  # back to the main screen for the next one
                await pilot.press("escape")
                await settle(pilot)
