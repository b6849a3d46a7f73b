"""Attach a file from disk to a matter's documents: a folder tree to pick it from (or its path
typed, over SSH the quicker way), the matter folder to keep it in, and "Share via Client
Portal". A share asks S3's question first ("Are you sure you want to share the selected file
via client portal?"); No leaves the box open with nothing done. The file's bytes are read and
stored in a worker, so a large file never freezes the screen."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label, Select

from portal_tui.domain import rules, texts
from portal_tui.domain.decision import Invalid, NotFound, Refused
from portal_tui.domain.kinds import ItemKind
from portal_tui.domain.records import FolderRow

from ..common.context import StaffAware
from ..common.modals import Confirm, Notice
from ..common.tick_box import TickBox
from ..common.unsaved import SaveOrCancel, UnsavedChanges, form_keys

TITLE = "Attach a file"


class _Files(DirectoryTree):
    """The folder tree without hidden files: a firm's papers, not a home folder's dotfiles."""

    def on_mount(self) -> None:
        glyphs = getattr(self.app, "glyphs", None)
        if glyphs is not None and glyphs.ascii_only:  # a terminal without Unicode
            self.ICON_NODE, self.ICON_NODE_EXPANDED, self.ICON_FILE = "+ ", "- ", "  "

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if not path.name.startswith(".")]


class AttachFile(UnsavedChanges, SaveOrCancel, ModalScreen[int | None], StaffAware):
    """Dismisses with the new document's id, or None (Cancel, Esc)."""

    BINDINGS = form_keys(save="Attach", cancel_in_footer=False)

    DEFAULT_CSS = """
    AttachFile _Files {
        height: 1fr;
        margin-bottom: 1;
    }
    AttachFile .row {
        height: 1;
        margin-bottom: 1;
    }
    AttachFile .row > Label {
        width: 8;
    }
    AttachFile .row > Input, AttachFile .row > Select {
        width: 1fr;
    }
    """

    def __init__(self, matter_id: int, folders: list[FolderRow], start: Path) -> None:
        super().__init__()
        self.matter_id = matter_id
        # Files attached here are stored in the firm database: a linked folder holds only
        # what is on its own disk.
        self._folders = [f for f in folders if f.linked_path is None]
        self._start = start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog attach"):
            yield Label(Text(TITLE), classes="dialog-title")
            yield _Files(self._start, id="attach-tree")
            with Horizontal(classes="row"):
                yield Label(Text("File"))
                yield Input(
                    placeholder="a path, or Enter on a file above", id="attach-path", compact=True
                )
            with Horizontal(classes="row"):
                yield Label(Text("Folder"))
                yield Select(
                    [(f.name, f.id) for f in self._folders],
                    value=self._folders[0].id if self._folders else Select.BLANK,
                    allow_blank=not self._folders,
                    id="attach-folder",
                    compact=True,
                )
            yield TickBox(
                texts.SHARE_VIA_PORTAL,
                id="attach-share",
                disabled=not rules.r1_may_share(self.staff.role, ItemKind.DOCUMENT),
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Attach", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#attach-tree", DirectoryTree).focus()
        self.remember_as_saved()

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one("#attach-path", Input).value = str(event.path)
        self.query_one("#attach-folder", Select).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        self._attach_file()

    @work(group="attach", exclusive=True)
    async def _attach_file(self) -> None:
        typed = self.query_one("#attach-path", Input).value.strip()
        folder = self.query_one("#attach-folder", Select).value
        share = self.query_one("#attach-share", TickBox).value
        problem: str | None = None
        if not typed:
            problem = "Choose a file: Enter on it in the tree, or type its path."
        elif not isinstance(folder, int):
            problem = "This matter has no folder to keep a file in."
        if problem is not None:
            await self.app.push_screen_wait(Notice(TITLE, problem, error=True))
            return
        assert isinstance(folder, int)
        path = Path(typed).expanduser()
        if share and not await self.app.push_screen_wait(
            Confirm(texts.SHARE_FILE_TITLE, texts.SHARE_FILE_CONFIRM)
        ):
            return
        repo = self.staff.repo
        try:
            data = await asyncio.to_thread(_read, path)
            added = await asyncio.to_thread(
                repo.add_document,
                self.matter_id,
                folder,
                name=path.name,
                content=data,
                share=share,
            )
        except Refused as refused:
            await self.app.push_screen_wait(Notice(TITLE, refused.message, error=True))
            return
        except (Invalid, NotFound) as bad:
            await self.app.push_screen_wait(Notice(TITLE, str(bad), error=True))
            return
        if share:
            self.staff.wake_delivery()
        self.app.notify(
            texts.ITEM_SHARED.format(label="file") if share else f"{path.name} attached.",
            title=TITLE,
            timeout=4,
        )
        self.dismiss(added)


def _read(path: Path) -> bytes:
    try:
        if not path.is_file():
            raise NotFound(f"There is no file {str(path)!r}.")
        return path.read_bytes()
    except OSError as exc:
        raise NotFound(f"{str(path)!r} cannot be read: {exc.strerror or exc}.") from None
