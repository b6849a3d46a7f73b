"""Every key of the staff app comes from its `Binding`s: the footer, `?` and the README's key
table are read from them, and `[keymap]` in config.toml remaps any of them by its `id`.

The bindings are found where they are declared (each class's own BINDINGS, across the modules
of portal_tui.tui), so a screen moved to another folder keeps its keys listed and remappable.
Reading them imports every screen: only the keymap check and `?` do that, never a plain start.

Key text follows the README: "Ctrl+S", "Esc", "Up", "/", so `?` and the README read alike.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key, format_key, key_to_character

from portal_tui.config import ConfigError, Settings

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
# Textual's named keys ("escape", "f5", "pagedown"); printable keys go by character or name.
_NAMED_KEYS = frozenset(key.value for key in Keys if "+" not in key.value and "<" not in key.value)
_KEY_TEXT = {
    "escape": "Esc",
    "enter": "Enter",
    "return": "Enter",
    "space": "Space",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "delete": "Delete",
    "backspace": "Backspace",
    "tab": "Tab",
    "home": "Home",
    "end": "End",
    "pageup": "PageUp",
    "pagedown": "PageDown",
    "insert": "Insert",
}


@dataclass(frozen=True, slots=True)
class Declared:
    """One key of one binding (a "x,delete" binding is two), and the class that declares it."""

    owner: type[DOMNode]
    binding: Binding


@cache
def declared() -> tuple[Declared, ...]:
    """Every binding the staff app declares, the app's own first, then module by module."""
    package = importlib.import_module("portal_tui.tui")
    found: list[Declared] = []
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, DOMNode)
                and value.__module__ == module.__name__
                and "BINDINGS" in value.__dict__
            ):
                for binding in Binding.make_bindings(value.__dict__["BINDINGS"]):
                    found.append(Declared(value, binding))
    # As a user meets them: a list's keys, a screen's, a dialog's, then those of everywhere.
    found.sort(key=lambda item: _rank(item.owner))
    return tuple(found)


def _rank(owner: type[DOMNode]) -> int:
    from textual.app import App
    from textual.screen import ModalScreen, Screen

    if issubclass(owner, App):
        return 3
    if issubclass(owner, ModalScreen):
        return 2
    return 1 if issubclass(owner, Screen) else 0


def binding_ids() -> frozenset[str]:
    return frozenset(item.binding.id for item in declared() if item.binding.id)


def key_problem(key: str) -> str | None:
    """Why `key` (one key, e.g. "ctrl+s") is not a key Textual can bind; None when it is."""
    if not key:
        return "empty key (keys are separated by commas: ctrl+s,f2)"
    *modifiers, name = key.split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            return f"unknown modifier {modifier!r} in {key!r} (use {', '.join(MODIFIERS)})"
    if len(name) == 1 and name.isprintable() and not name.isspace():
        return None
    if name in _NAMED_KEYS or key_to_character(name) is not None:
        return None
    return f"unknown key {name!r} in {key!r} (e.g. a, K, f5, escape, ctrl+s, question_mark)"


def check_keymap(settings: Settings) -> dict[str, str]:
    """The keymap as Textual takes it; one ConfigError for an unknown binding id or key."""
    where = str(settings.config_file)
    known = binding_ids()
    keymap: dict[str, str] = {}
    for binding_id, keys in settings.keymap.items():
        name = f"keymap.{binding_id}"
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, sorted(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "`?` in the app lists the keys"
            raise ConfigError(where, f"no binding has the id {binding_id!r} ({hint})", name)
        parts = [part.strip() for part in keys.split(",")]
        for part in parts:
            problem = key_problem(part)
            if problem:
                raise ConfigError(where, problem, name)
        keymap[binding_id] = ",".join(normal_key(part) for part in parts)
    return keymap


def normal_key(key: str) -> str:
    """A key as Textual names it: "?" is "question_mark", as in a binding."""
    return _character_to_key(key) if len(key) == 1 else key


def key_text(key: str) -> str:
    """A key as `?` and the README write it: "ctrl+s" is "Ctrl+S", "question_mark" is "?"."""
    *modifiers, name = key.split("+")
    text = _KEY_TEXT.get(name)
    if text is None:
        shown = format_key(name)  # "slash" -> "/", "question_mark" -> "?"
        text = shown if len(shown) == 1 else name.capitalize()  # f5 -> F5
    if modifiers and len(text) == 1:
        text = text.upper()
    return "+".join([*(modifier.capitalize() for modifier in modifiers), text])


def meaning(binding: Binding) -> str:
    """What a key does, as `?` says it: the tooltip where there is one (the footer's label is
    kept short to fit 80 columns), else the label."""
    return binding.tooltip or binding.description


def remapped(bindings: Iterable[Declared], keymap: Mapping[str, str]) -> list[Declared]:
    """The declared bindings with the keymap's keys in place of theirs, as Textual applies it."""
    out: list[Declared] = []
    done: set[tuple[type[DOMNode], str]] = set()
    for item in bindings:
        binding_id = item.binding.id
        keys = keymap.get(binding_id) if binding_id else None
        if keys is None or binding_id is None:
            out.append(item)
            continue
        if (item.owner, binding_id) in done:
            continue  # "x,delete" remapped is the keymap's keys, once
        done.add((item.owner, binding_id))
        out.extend(Declared(item.owner, item.binding.with_key(key)) for key in keys.split(","))
    return out


def rows(bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    """(keys, what they do) lines, one per meaning: "y / n" answers a question, in first-seen
    order. Bindings that say nothing (a key swallowed while work runs) and Textual's system
    bindings are left out."""
    keys_of: dict[str, list[str]] = {}
    for binding in bindings:
        text = meaning(binding)
        if not text or binding.system:
            continue
        label = key_text(binding.key)
        keys = keys_of.setdefault(text, [])
        if label not in keys:
            keys.append(label)
    return [(" / ".join(keys), text) for text, keys in keys_of.items()]


def all_rows(keymap: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Every key of the app and what it does: the README's key table."""
    return rows(item.binding for item in remapped(declared(), keymap or {}))
