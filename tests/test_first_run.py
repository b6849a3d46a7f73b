"""A new firm's first run on screen (README: "A firm of your own"): `portal-tui` on an empty
firm database asks `init`'s questions in the terminal, refuses a bad answer in its own words
without setting anything up, and then opens the staff app as the Admin it made — with what the
next start needs kept in config.toml, 0600. `init --portal` keeps the portal's address the same
way, and a clash with what config.toml says refuses before the firm is made."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

from portal_tui.domain import texts

from .test_cli import Home, home  # noqa: F401  (the fixture)
from .test_terminal import terminal  # noqa: F401  (the fixture)
from .tmux import Terminal


def _answer(term: Terminal, field: str, text: str, *, clear: str | None = None) -> None:
    """Type into the focused field (emptied first when `clear` names its placeholder), then
    Tab on to the next, each step waited for on screen. (Enter moves on too, once the field
    has taken it: a message, so a key typed right behind it may still reach this field.)"""
    if clear is not None:
        term.keys("C-u")
        term.shows(clear)
    term.keys("-l", text)
    term.wait_for(lambda s: text in s, f"{field} typed")
    term.keys("Tab")


def test_an_empty_firm_is_set_up_on_screen_and_opens_as_its_admin(
    terminal: Callable[[str], Terminal],  # noqa: F811
    tmp_path: Path,
) -> None:
    term = terminal("")
    term.shows("Set up your firm")
    _answer(term, "firm", "Harbor & Vale [LLP]")  # brackets: the name is text, not markup
    # The login field holds the OS login, the name its full name: replace them.
    _answer(term, "login", "mkay", clear="your OS login")
    _answer(term, "name", "Max Kay", clear="your full name")
    _answer(term, "email", "not-an-email")
    term.keys("C-s")  # no portal address, no token
    term.shows("'not-an-email' is not an email address.")
    assert not (tmp_path / "config.toml").exists()  # refused: nothing kept

    term.keys("BTab")  # back to the email, what was typed still there
    _answer(term, "email", "max@harbor.example", clear="you@yourfirm.example")
    term.keys("C-s")
    opened = term.shows("Harbor & Vale [LLP] — Max Kay (Admin)")
    assert "Matters" in opened and "Setup" in opened
    config = tmp_path / "config.toml"
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    # The next start opens the firm as mkay without being told.
    assert tomllib.loads(config.read_text(encoding="utf-8")) == {"staff_user": "mkay"}
    term.keys("q")
    term.shows("EXIT=0")

    # The Admin adds a colleague by the command; the app opens as that colleague.
    added = subprocess.run(
        [sys.executable, "-m", "portal_tui", "staff", "add", "amy", "--name", "Amy Lee",
         "--email", "amy@harbor.example", "--role", "normal"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))},
            "PORTAL_TUI_CONFIG": str(config),
            "PORTAL_TUI_DATA_DIR": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert added.returncode == 0 and "Added amy (Normal)." in added.stdout, added.stderr
    colleague = terminal("--staff-user amy")
    colleague.shows("Harbor & Vale [LLP] — Amy Lee (Normal)")


def test_esc_on_the_first_run_asks_before_it_throws_the_answers_away(
    terminal: Callable[[str], Terminal],  # noqa: F811
    home: Home,  # noqa: F811
    tmp_path: Path,
) -> None:
    term = terminal("")
    term.shows("Set up your firm")
    term.keys("-l", "Harbor")
    term.shows("Harbor")
    term.keys("Escape")
    term.shows(texts.DISCARD_QUESTION)
    term.keys("Escape")  # Keep editing: the answer is still there
    term.wait_for(lambda s: texts.DISCARD_QUESTION not in s and "Harbor" in s, "the form")
    term.keys("Escape")
    term.shows(texts.DISCARD_QUESTION)
    term.keys("y")  # Discard
    left = term.shows("EXIT=2")
    assert "portal-tui init" in left  # nothing was set up, and the way to begin is named
    assert not (tmp_path / "config.toml").exists()


def test_init_keeps_the_portal_address_and_refuses_a_bad_one_first(home: Home) -> None:  # noqa: F811
    args = ("init", "--firm", "A", "--login", "jdoe", "--name", "J", "--email", "j@a.test")
    bad = home.run(*args, "--portal", "ftp://portal.example")
    assert bad.status == 2 and len(bad.err_lines) == 1
    assert "expected http://host... or https://host..." in bad.err
    assert not home.config.exists()
    still_empty = home.run("--staff-user", "jdoe", "staff", "list")
    assert still_empty.status == 2 and "portal-tui init" in still_empty.err  # no firm made

    home.write_config('[keymap]\n"items.share" = "S"\n')
    made = home.run(*args, "--portal", "https://portal.harbor.example")
    assert made.status == 0, made.err
    assert "Set portal_token in config.toml" in made.out  # no terminal to ask it in
    kept = tomllib.loads(home.config.read_text(encoding="utf-8"))
    # The address is a top-level key; the owner's own table is still theirs.
    assert kept["portal_url"] == "https://portal.harbor.example"
    assert kept["staff_user"] == "jdoe"
    assert kept["keymap"] == {"items.share": "S"}
    assert stat.S_IMODE(os.stat(home.config).st_mode) == 0o600
    shown = home.run("config")
    assert shown.status == 0 and "https://portal.harbor.example" in shown.out


def test_init_refuses_a_portal_address_config_toml_already_gives_otherwise(
    home: Home,  # noqa: F811
) -> None:
    home.write_config('portal_url = "https://old.example"\n')
    run = home.run(
        "init", "--firm", "A", "--login", "jdoe", "--name", "J", "--email", "j@a.test",
        "--portal", "https://new.example",
    )  # fmt: skip
    assert run.status == 2 and len(run.err_lines) == 1
    assert "already set to 'https://old.example'; change it there" in run.err
    assert home.run("--staff-user", "jdoe", "staff", "list").status == 2  # no firm made
    assert home.config.read_text(encoding="utf-8") == 'portal_url = "https://old.example"\n'
