"""Bulk share and unshare of the marked rows: a progress bar while the work runs in a thread,
chunk by chunk, then a summary of what was done and of each item a rule refused, with the
rule's own message.

The chunks of one bulk share form one batch, held back from delivery until the last chunk is
written, so each client gets one email for the whole bulk (F5)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, ProgressBar, Static

from portal_tui.domain import texts
from portal_tui.domain.decision import NotFound
from portal_tui.domain.kinds import ItemKind

from ..common.client_text import inert
from ..common.context import StaffAware
from ..common.share_words import items_word
from .share_history import item_label

# Items per transaction: small enough that the bar moves and other writers get a turn, large
# enough that 10,000 items are a few dozen transactions.
CHUNK = 250
# Refused items named one by one in the summary, per reason; the rest are counted.
NAMED = 20


@dataclass
class BulkResult:
    """What a bulk action did: how many changed, and each refusal (id, rule's message)."""

    kind: ItemKind
    share: bool
    asked: int
    done: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    error: str | None = None
    # Names of refused items, looked up for the summary (id -> label).
    labels: dict[int, str] = field(default_factory=dict)


class _Modal(ModalScreen[Any], StaffAware):
    """A box of the bulk flow."""


class BulkProgress(_Modal):
    """Runs the bulk action and shows how far it got; dismissed with its BulkResult. It cannot
    be closed meanwhile: every chunk is a transaction, and the last one releases the batch."""

    DEFAULT_CSS = """
    BulkProgress ProgressBar {
        width: 1fr;
        margin: 0 0 1 0;
    }
    BulkProgress Bar {
        width: 1fr;
    }
    """

    # Nothing to close while the shares run: Esc is swallowed, and `?` does not list it.
    BINDINGS = [Binding("escape", "ignore", show=False, id="bulk.busy")]

    def __init__(self, kind: ItemKind, ids: Sequence[int], *, share: bool) -> None:
        super().__init__()
        self.kind = kind
        self.ids = list(ids)
        self.share = share
        self.result = BulkResult(kind, share, len(self.ids))

    def compose(self) -> ComposeResult:
        count = len(self.ids)
        words = texts.BULK_SHARING if self.share else texts.BULK_UNSHARING
        title = texts.SHARE_VIA_PORTAL if self.share else texts.UNSHARE_VIA_PORTAL
        with Vertical(classes="dialog"):
            yield Label(Text(title), classes="dialog-title")
            yield Static(
                Text(words.format(count=count, items=items_word(count))), classes="dialog-body"
            )
            yield ProgressBar(total=max(count, 1), show_eta=False, id="bulk-progress")

    def on_mount(self) -> None:
        self._run()

    def action_ignore(self) -> None:
        """Esc does nothing while the work runs (it finishes in seconds)."""

    async def run_chunk(self, ids: list[int], batch: str, last: bool) -> None:
        """One transaction of the bulk, in a thread; its outcome added to the result."""
        repo = self.staff.repo
        items = [(self.kind, i) for i in ids]
        done, refused = await asyncio.to_thread(
            repo.share_many, items, share=self.share, batch=batch, hold=self.share and not last
        )
        self.result.done += done
        self.result.refused += [(item_id, reason) for _, item_id, reason in refused]

    @work(group="bulk", exclusive=True)
    async def _run(self) -> None:
        repo = self.staff.repo
        bar = self.query_one(ProgressBar)
        batch = repo.new_batch()
        held = False
        try:
            for start in range(0, len(self.ids), CHUNK):
                last = start + CHUNK >= len(self.ids)
                await self.run_chunk(self.ids[start : start + CHUNK], batch, last)
                held = self.share and not last
                bar.progress = min(start + CHUNK, len(self.ids))
        except Exception as exc:  # a database gone away: say so, keep what was done
            self.result.error = str(exc) or type(exc).__name__
        finally:
            if held:
                # Stopped half-way: what was written goes out now, not after the hold.
                await asyncio.to_thread(repo.share_many, [], share=True, batch=batch)
        self.result.labels = await asyncio.to_thread(self._labels)
        self.staff.wake_delivery()
        self.dismiss(self.result)

    def _labels(self) -> dict[int, str]:
        """Names of the refused items the summary lists (a few per reason, in a thread)."""
        repo = self.staff.repo
        per_reason: dict[str, int] = {}
        labels: dict[int, str] = {}
        for item_id, reason in self.result.refused:
            per_reason[reason] = per_reason.get(reason, 0) + 1
            if per_reason[reason] > NAMED:
                continue
            try:
                row = repo.item_row(self.kind, item_id)
            except NotFound:
                labels[item_id] = f"{self.kind.label} {item_id}"
                continue
            matter = getattr(row, "matter_number", None)
            name = item_label(self.kind, row)
            labels[item_id] = f"{matter}  {name}" if matter and matter != name else name
        return labels


class BulkSummary(_Modal):
    """How many were shared or unshared, and each refused item under its rule's message."""

    DEFAULT_CSS = """
    BulkSummary #bulk-body {
        height: auto;
        max-height: 14;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS = [
        Binding(
            "escape",
            "close",
            "OK",
            show=False,
            id="bulk.close",
            tooltip="Go back; close a box; clear the filter",
        ),
        Binding(
            "enter",
            "close",
            "OK",
            show=False,
            id="bulk.ok",
            tooltip="Close a notice, a summary or the share history",
        ),
    ]

    def __init__(self, result: BulkResult) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        r = self.result
        title = texts.SHARE_VIA_PORTAL if r.share else texts.UNSHARE_VIA_PORTAL
        words = texts.BULK_SHARED if r.share else texts.BULK_UNSHARED
        with Vertical(classes="dialog -error" if r.error else "dialog"):
            yield Label(Text(title), classes="dialog-title")
            yield Static(
                Text(words.format(done=r.done, count=r.asked, items=items_word(r.asked))),
                id="bulk-done",
                classes="dialog-body",
            )
            with VerticalScroll(id="bulk-body"):
                yield Static(self._refusals(), id="bulk-refused", classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def _refusals(self) -> Text:
        r = self.result
        out = Text()
        if r.error:
            out.append(texts.BULK_STOPPED.format(error=r.error) + "\n\n", style="bold")
        if not r.refused:
            return out
        out.append(texts.BULK_REFUSED.format(count=len(r.refused)) + "\n", style="bold")
        by_reason: dict[str, list[int]] = {}
        for item_id, reason in r.refused:
            by_reason.setdefault(reason, []).append(item_id)
        for reason, ids in by_reason.items():
            out.append("\n")
            out.append(reason + "\n", style="italic")
            for item_id in ids[:NAMED]:
                out.append("  - ")
                out.append(inert(r.labels.get(item_id, f"{r.kind.label} {item_id}")))
                out.append("\n")
            if len(ids) > NAMED:
                out.append(f"  and {len(ids) - NAMED:,} more\n")
        out.rstrip()
        return out

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
