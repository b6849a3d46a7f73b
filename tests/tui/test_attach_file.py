"""Matter Details > Documents > `n` (Attach): a file from disk picked in a folder tree or
typed as a path, kept in a matter folder, and shared if asked — with S3's question first
("Are you sure you want to share the selected file via client portal?"). Checked in the
firm database afterwards: the bytes as they were on disk, the share mark only after Yes."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DirectoryTree, Input

from portal_tui.domain import ItemKind, texts
from portal_tui.tui.common.modals import Confirm, Notice
from portal_tui.tui.common.tick_box import TickBox
from portal_tui.tui.matter.attach_file import AttachFile

from .helpers import ADMIN, READER, SIZE, AppPilot, TuiFirm, dialog
from .pilot import matter_section, open_matter, screen_of, started, until


async def _attach_box(pilot: AppPilot, tui_firm: TuiFirm) -> AttachFile:
    await started(pilot.app, pilot)  # type: ignore[arg-type]
    await open_matter(pilot, tui_firm.on_matter)
    await matter_section(pilot, "documents")
    await pilot.press("n")
    box: AttachFile = await screen_of(pilot, AttachFile)
    return box


def _names(tui_firm: TuiFirm) -> dict[str, int]:
    rows = tui_firm.system.list_items(ItemKind.DOCUMENT, matter_id=tui_firm.on_matter).rows
    return {row.name: row.id for row in rows}


async def test_s3_a_file_picked_in_the_tree_is_attached_and_shared_after_yes(
    tui_firm: TuiFirm, tmp_path: Path
) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    data = bytes(range(256)) * 40  # not text: kept byte for byte
    (papers / "Settlement [draft].pdf").write_bytes(data)
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        box = await _attach_box(pilot, tui_firm)
        tree = box.query_one(DirectoryTree)
        assert tree.has_focus  # the picker has the keys at once
        await tree.reload()
        tree.path = papers
        await until(pilot, lambda: tree.cursor_node is not None, "the folder read")
        await pilot.pause()
        await until(pilot, lambda: len(tree.root.children) == 1, "the file listed")
        tree.move_cursor(tree.root.children[0])
        await pilot.press("enter")  # on the file: its path goes in the File field
        path = box.query_one("#attach-path", Input)
        await until(pilot, lambda: path.value.endswith("Settlement [draft].pdf"), "the path")
        box.query_one("#attach-share", TickBox).focus()
        await pilot.press("space", "ctrl+s")
        asked: Confirm = await screen_of(pilot, Confirm)
        assert dialog(app) == (texts.SHARE_FILE_TITLE, texts.SHARE_FILE_CONFIRM)
        await pilot.press("n")  # No: nothing added, the box still open
        await until(pilot, lambda: app.screen is box, "back in the box")
        assert asked is not app.screen and "Settlement [draft].pdf" not in _names(tui_firm)
        await pilot.press("ctrl+s")
        await screen_of(pilot, Confirm)
        await pilot.press("y")
        await until(pilot, lambda: "Settlement [draft].pdf" in _names(tui_firm), "the document")
    added = _names(tui_firm)["Settlement [draft].pdf"]
    assert tui_firm.system.document_content(added) == data
    assert tui_firm.share(ItemKind.DOCUMENT, added).wanted


async def test_a_typed_path_is_attached_unshared_and_a_bad_one_says_why(
    tui_firm: TuiFirm, tmp_path: Path
) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_bytes(b"Dear Ada,\n")
    app = tui_firm.app(ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        box = await _attach_box(pilot, tui_firm)
        path = box.query_one("#attach-path", Input)
        path.focus()
        path.value = str(tmp_path / "missing.txt")
        await pilot.press("enter")
        await screen_of(pilot, Notice)
        assert "There is no file" in dialog(app)[1] and "missing.txt" in dialog(app)[1]
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is box, "back in the box")
        path.value = str(letter)
        await pilot.press("ctrl+s")  # not ticked: no question, not shared
        await until(pilot, lambda: "letter.txt" in _names(tui_firm), "the document")
    added = _names(tui_firm)["letter.txt"]
    assert tui_firm.system.document_content(added) == b"Dear Ada,\n"
    assert not tui_firm.share(ItemKind.DOCUMENT, added).wanted


async def test_r1_a_read_only_user_is_not_offered_the_share_box(tui_firm: TuiFirm) -> None:
    app = tui_firm.app(READER)
    async with app.run_test(size=SIZE) as pilot:
        box = await _attach_box(pilot, tui_firm)
        assert box.query_one("#attach-share", TickBox).disabled
