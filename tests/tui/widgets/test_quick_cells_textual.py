"""quick_cells.py draws the item lists' cells its own way (keystroke to screen <= 100 ms) by
overriding and calling private members of Textual's DataTable, which is why pyproject.toml pins
Textual exactly. A Textual that is not the pin, or whose DataTable lost or changed one of those
members, stops here with one message naming them, rather than as a snapshot diff or a crash at
the first drawing of a list."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, _data_table

from portal_tui.tui.common import quick_cells

ROOT = Path(__file__).resolve().parents[3]

# The Textual the members below were read from (and quick_cells.py checked against).
READ_FROM = "8.2.8"

# Overridden: Textual calls them with these parameters.
OVERRIDDEN = {
    "_render_cell": "(self, row_index, column_index, base_style, width, cursor=False, hover=False)",
    "_update_dimensions": "(self, new_rows)",
}
# Called by quick_cells.py with these parameters.
CALLED = {
    "_get_row_renderables": "(self, row_index)",
    "_get_styles_to_render_cell": "(self, is_header_cell, is_row_label_cell, is_fixed_style_cell,"
    " hover, cursor, show_cursor, show_hover_cursor, has_css_foreground_priority,"
    " has_css_background_priority)",
    "_highlight_cursor": "(self)",
}
# Read or written by quick_cells.py on the table.
ATTRIBUTES = (
    "_cell_render_cache",
    "_column_locations",
    "_data",
    "_new_rows",
    "_pseudo_class_state",
    "_require_update_dimensions",
    "_row_label_column_width",
    "_row_locations",
    "_show_hover_cursor",
    "_total_row_height",
    "_update_count",
)
# QuickCells' own private attributes, not DataTable's.
OWN = {"_meta_styles"}
# Imported from textual.widgets._data_table, with the fields quick_cells.py relies on: it makes
# Row(key, height, label, auto_height) positionally and reads RowRenderables' cells.
MODULE_NAMES = ("DuplicateKey", "Row", "RowKey")
FIELDS = {"Row": ("key", "height", "label", "auto_height"), "RowRenderables": ("label", "cells")}


def parameters(function: Callable[..., Any]) -> str:
    """The signature without annotations: the names, kinds and defaults a caller relies on."""
    signature = inspect.signature(function)
    bare = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=bare, return_annotation=inspect.Signature.empty))


def field_names(cls: type) -> tuple[str, ...]:
    if dataclasses.is_dataclass(cls):
        return tuple(field.name for field in dataclasses.fields(cls))
    return tuple(getattr(cls, "_fields", ()))


def pinned_textual() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        dependencies: list[str] = tomllib.load(file)["project"]["dependencies"]
    pins = [d.removeprefix("textual==") for d in dependencies if d.startswith("textual==")]
    assert len(pins) == 1, f"pyproject.toml pins no exact textual: {dependencies}"
    return pins[0]


def differences(installed: str, pin: str) -> list[str]:
    found = []
    if installed != pin:
        found.append(f"pyproject.toml pins textual {pin}")
    if pin != READ_FROM:
        found.append(f"these members were read from textual {READ_FROM}")
    for name, expected in {**OVERRIDDEN, **CALLED}.items():
        member = getattr(DataTable, name, None)
        if member is None:
            found.append(f"DataTable.{name} is gone")
        elif (actual := parameters(member)) != expected:
            found.append(f"DataTable.{name}{actual} was {name}{expected}")
    table: DataTable[Any] = DataTable()
    for name in ATTRIBUTES:
        try:
            # Static: properties such as _total_row_height are found, not run.
            inspect.getattr_static(table, name)
        except AttributeError:
            found.append(f"DataTable.{name} is gone")
    for name in MODULE_NAMES:
        if not hasattr(_data_table, name):
            found.append(f"textual.widgets._data_table.{name} is gone")
    for name, expected_fields in FIELDS.items():
        cls = getattr(_data_table, name, None)
        if cls is not None and (actual_fields := field_names(cls)) != expected_fields:
            found.append(f"{name} has the fields {actual_fields}, was {expected_fields}")
    return found


def test_datatable_has_the_private_members_quick_cells_overrides_and_calls() -> None:
    installed, pin = version("textual"), pinned_textual()
    found = differences(installed, pin)
    overridden = ", ".join(OVERRIDDEN)
    used = ", ".join([*CALLED, *ATTRIBUTES])
    assert not found, (
        f"quick_cells.py overrides DataTable.{overridden} (and uses {used}) of textual "
        f"{READ_FROM}; the installed textual is {installed}: check those methods and update the "
        f"pin (and READ_FROM in {Path(__file__).name}). What differs: {'; '.join(found)}"
    )


def test_the_members_checked_are_all_those_quick_cells_uses() -> None:
    # A private member newly used in quick_cells.py must be recorded above, or an upgrade that
    # changes it would get past the test.
    source = Path(quick_cells.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_")
        if not node.attr.startswith("__")
    } - OWN
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "textual.widgets._data_table"
        for alias in node.names
    }
    recorded = {*OVERRIDDEN, *CALLED, *ATTRIBUTES}
    assert (used, imported) == (recorded, set(MODULE_NAMES)), (
        f"quick_cells.py uses DataTable members {sorted(used - recorded)} and "
        f"_data_table names {sorted(imported - set(MODULE_NAMES))} that this test does not check, "
        f"and no longer uses {sorted(recorded - used)}, {sorted(set(MODULE_NAMES) - imported)}: "
        f"record them as they are in textual {READ_FROM}"
    )
