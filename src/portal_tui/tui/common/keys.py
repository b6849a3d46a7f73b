"""`?`: the keys, read from the bindings themselves (the footer's and the README's source).

First what works where `?` was pressed, from the focused widget out to the app, as Textual
would dispatch a key (so a remapped key shows its new key); then every other key of the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from ..keymap import declared, remapped, rows

HERE = "Here"
SCREEN = "On this screen"
EVERYWHERE = "Everywhere"
ELSEWHERE = "Elsewhere in the app"


def key_groups(
    active: Iterable[ActiveBinding], keymap: Mapping[str, str]
) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, (keys, what they do) rows) for each group; groups without keys are left out."""
    here: list[Binding] = []
    screen: list[Binding] = []
    everywhere: list[Binding] = []
    for item in active:
        if isinstance(item.node, App):
            everywhere.append(item.binding)
        elif isinstance(item.node, Screen):
            screen.append(item.binding)
        else:
            here.append(item.binding)
    groups = [(HERE, _ours_first(here)), (SCREEN, _ours_first(screen))]
    groups.append((EVERYWHERE, _ours_first(everywhere)))
    # A key listed above with the same meaning is not listed again.
    shown: dict[str, set[str]] = {}
    for _, group in groups:
        for keys, text in group:
            shown.setdefault(text, set()).update(keys.split(" / "))
    rest = [
        (keys, text)
        for keys, text in rows(item.binding for item in remapped(declared(), keymap))
        if not set(keys.split(" / ")) <= shown.get(text, set())
    ]
    groups.append((ELSEWHERE, rest))
    return [(title, group) for title, group in groups if group]


def _ours_first(bindings: list[Binding]) -> list[tuple[str, str]]:
    """The app's own keys (each says what it does for `?`), then Textual's (Home, Tab...)."""
    return rows(sorted(bindings, key=lambda binding: not binding.tooltip))


class KeysScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", show=False, id="keys.close", system=True),
        Binding("question_mark", "close", "Close", show=False, id="keys.hide", system=True),
        Binding("q", "close", "Close", show=False, id="keys.dismiss", system=True),
    ]

    def __init__(
        self,
        active: Sequence[ActiveBinding] = (),
        keymap: Mapping[str, str] | None = None,
    ) -> None:
        """`active`: the bindings in force where `?` was pressed; `keymap`: the app's."""
        super().__init__()
        self._groups = key_groups(active, keymap or {})

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))
        # The meanings get the room: a long list of keys ("K / Shift+Up / J / ...") wraps.
        table.add_column(style="bold", max_width=18)
        table.add_column()
        for index, (title, group) in enumerate(self._groups):
            if index:
                table.add_row("", "")
            table.add_row(Text.assemble((title, "underline")), "")
            for keys, meaning in group:
                table.add_row(keys, meaning)
        # It scrolls (arrows, PageDown) where 24 lines are too few for every key.
        with VerticalScroll(classes="dialog keys"):
            yield Label("Keys", classes="dialog-title")
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)
