"""The keys have one source, the bindings: every binding has an id, `[keymap]` remaps any of them
(a bad id or key is one config error before the app starts), `?` and the footer show the keys in
effect, and the README's key table is the bindings' own."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from rich.table import Table
from textual.widgets import Label, Static

from portal_tui.config import ConfigError, Settings, load_settings
from portal_tui.domain import ItemKind, texts
from portal_tui.tui.common.keys import ELSEWHERE, HERE, KeysScreen
from portal_tui.tui.common.modals import Notice
from portal_tui.tui.keymap import all_rows, binding_ids, check_keymap, declared, key_text
from portal_tui.tui.matters.main_screen import MainScreen

from .helpers import SIZE, TuiFirm, dialog, screen_text
from .pilot import activities, move_to, screen_of, started

README = Path(__file__).resolve().parents[2] / "README.md"
ID = re.compile(r"[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*")


def settings_with(tmp_path: Path, keymap: str) -> Settings:
    config = tmp_path / "config.toml"
    config.write_text(f"[keymap]\n{keymap}\n", encoding="utf-8")
    env = {"PORTAL_TUI_CONFIG": str(config), "PORTAL_TUI_DATA_DIR": str(tmp_path / "data")}
    return load_settings(flags={}, env=env)


def keymap_error(tmp_path: Path, keymap: str) -> str:
    with pytest.raises(ConfigError) as caught:
        check_keymap(settings_with(tmp_path, keymap))
    text = str(caught.value)
    assert text.startswith(f"config error: {tmp_path / 'config.toml'}: key 'keymap.")
    assert "\n" not in text
    return text


# Every binding has an id ------------------------------------------------------------------------


def test_every_binding_has_a_descriptive_id() -> None:
    unnamed = [f"{d.owner.__name__} {d.binding.key}" for d in declared() if not d.binding.id]
    assert not unnamed, f"bindings without an id: {unnamed}"
    odd = sorted(i for i in binding_ids() if not ID.fullmatch(i))
    assert not odd, f"ids not shaped 'feature.action': {odd}"


def test_one_id_means_one_action() -> None:
    """An id may be shared by screens only where it does the same thing there (nav.back)."""
    actions: defaultdict[str, set[str]] = defaultdict(set)
    for item in declared():
        assert item.binding.id is not None
        actions[item.binding.id].add(item.binding.action)
    mixed = {i: sorted(a) for i, a in actions.items() if len(a) > 1}
    assert not mixed, f"one id, different actions: {mixed}"


# The README's table is the bindings' ------------------------------------------------------------


def readme_keys() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Keys\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "README.md has no '## Keys' section"
    return match.group(1)


def test_readme_key_table_is_the_bindings() -> None:
    """Each README row is keys the app binds, saying what those bindings say, and each
    binding of the app is in a README row."""
    rows = re.findall(r"^\| `(.+?)` +\| (.+?) +\|$", readme_keys(), re.M)
    readme, bound = Counter(rows), Counter(all_rows())
    assert not readme - bound, f"README rows no binding has: {sorted(readme - bound)}"
    assert not bound - readme, f"bindings the README lacks: {sorted(bound - readme)}"


def test_readme_lists_every_binding_id() -> None:
    section = readme_keys()
    match = re.search(r"^Every binding id.*?\n\n(.*?)(?:\n\n|\Z)", section, re.S | re.M)
    assert match, "README.md's Keys section lists no binding ids"
    listed = match.group(1)
    named = set(re.findall(r"`([^`]+)`", listed))
    known = binding_ids()
    assert named == known, f"README lacks {sorted(known - named)}, has {sorted(named - known)}"


# [keymap]: checked against the bindings --------------------------------------------------------


def test_keymap_is_taken_as_textual_names_it(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, '"items.share" = "ctrl+s"\n"app.keys" = "f1, ?"')
    assert check_keymap(settings) == {"items.share": "ctrl+s", "app.keys": "f1,question_mark"}


def test_an_unknown_binding_id_names_the_nearest(tmp_path: Path) -> None:
    text = keymap_error(tmp_path, '"items.shar" = "ctrl+s"')
    assert "keymap.items.shar" in text
    assert "no binding has the id 'items.shar' (did you mean 'items.share'?)" in text


def test_an_id_nothing_like_any_says_where_the_keys_are(tmp_path: Path) -> None:
    text = keymap_error(tmp_path, '"matters.zzz" = "x"')
    assert "no binding has the id 'matters.zzz'" in text


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ("ctrl+sss", "unknown key 'sss' in 'ctrl+sss'"),
        ("Ctrl+s", "unknown modifier 'Ctrl' in 'Ctrl+s'"),
        ("ctrl+", "unknown key '' in 'ctrl+'"),
        ("f1,,f2", "empty key"),
        ("hyperdrive", "unknown key 'hyperdrive'"),
    ],
)
def test_a_key_textual_cannot_bind(tmp_path: Path, keys: str, problem: str) -> None:
    text = keymap_error(tmp_path, f'"items.share" = "{keys}"')
    assert "key 'keymap.items.share'" in text
    assert problem in text


def test_the_app_does_not_start_with_a_bad_keymap(tui_firm: TuiFirm, tmp_path: Path) -> None:
    """Checked when the app is made, before it runs: never half remapped."""
    settings = settings_with(tmp_path, '"go.matters" = "m"\n"items.shar" = "ctrl+s"')
    with pytest.raises(ConfigError, match=r"items\.shar\b"):
        tui_firm.app(settings=settings)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("ctrl+s", "Ctrl+S"),
        ("question_mark", "?"),
        ("slash", "/"),
        ("escape", "Esc"),
        ("f5", "F5"),
        ("shift+up", "Shift+Up"),
        ("K", "K"),
    ],
)
def test_keys_are_written_as_the_readme_writes_them(key: str, text: str) -> None:
    assert key_text(key) == text


# In the app: the new key works, the old one does not, `?` and the footer say so ----------------


def keys_shown(app: object) -> list[tuple[str, str]]:
    """`?`'s lines as (keys, what they do); group titles come as (title, "")."""
    screen = getattr(app, "screen", None)
    assert isinstance(screen, KeysScreen)
    (table,) = [w.content for w in screen.query(Static) if not isinstance(w, Label)]
    assert isinstance(table, Table)
    lines: list[tuple[str, str]] = []
    for keys, meaning in zip(table.columns[0].cells, table.columns[1].cells, strict=True):
        lines.append((str(keys), str(meaning)))
    return lines


async def test_a_remapped_key_works_and_the_old_one_does_not(
    tui_firm: TuiFirm, tmp_path: Path
) -> None:
    settings = settings_with(tmp_path, '"items.share" = "ctrl+s"')
    app = tui_firm.app(settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        invoices = await activities(pilot, ItemKind.INVOICE)
        await move_to(pilot, invoices, tui_firm.final_invoice)
        before = tui_firm.share(ItemKind.INVOICE, tui_firm.final_invoice)

        footer = screen_text(app).splitlines()[-1]
        assert "^s Share" in footer, footer
        assert " s Share" not in footer, footer

        await pilot.press("?")
        await screen_of(pilot, KeysScreen)
        lines = keys_shown(app)
        here = lines[: lines.index((ELSEWHERE, ""))]
        assert lines[0] == (HERE, "")
        assert ("Ctrl+S", "Share or unshare the selected or marked items") in here
        assert all(
            meaning != "Share or unshare the selected or marked items" or keys == "Ctrl+S"
            for keys, meaning in lines
        )
        await pilot.press("escape")
        await screen_of(pilot, MainScreen)

        await pilot.press("s")  # no longer the share key: nothing asks, nothing changes
        await pilot.pause(0.2)
        assert isinstance(app.screen, MainScreen)
        assert tui_firm.share(ItemKind.INVOICE, tui_firm.final_invoice) == before

        await pilot.press("ctrl+s")
        await screen_of(pilot, Notice)
        assert dialog(app)[1] == texts.INVOICE_SHARED


async def test_keys_lists_what_works_here_first_then_the_rest(tui_firm: TuiFirm) -> None:
    app = tui_firm.app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("question_mark")
        await screen_of(pilot, KeysScreen)
        lines = keys_shown(app)
        titles = [keys for keys, meaning in lines if not meaning and keys]
        assert titles[0] == HERE and titles[-1] == ELSEWHERE
        # Every key the app has is listed, once with its meaning, wherever `?` is pressed.
        listed = {meaning for _, meaning in lines}
        assert {meaning for _, meaning in all_rows()} <= listed
        here = lines[: lines.index((ELSEWHERE, ""))]
        assert "Move in a list" in {meaning for _, meaning in here}  # the Matters list has focus
        assert ("y / n", "Answer Yes or No in a question") not in here
