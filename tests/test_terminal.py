"""The staff app in a real terminal: `portal-tui demo` under tmux, driven by keys as a user
would over SSH — the first screen, the S1 invoice flow with the seed's exact texts, quitting —
and a database that cannot be used ending in one line on the terminal, not a broken screen."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portal_tui.domain import texts

from .tmux import Terminal, joined, kill_server, start, terminal_env

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ON_MATTER = "2022-0017"  # the demo matter of Aisha Okafor: portal ON, Draft invoices


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[[str], Terminal]]:
    socket = tmp_path / "tmux.sock"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))}
    env = terminal_env(env, tmp_path)
    env.update(
        PORTAL_TUI_CONFIG=str(tmp_path / "config.toml"),
        PORTAL_TUI_DATA_DIR=str(tmp_path / "data"),
    )
    sessions: list[Terminal] = []

    def started(args: str) -> Terminal:
        term = start(socket, env, args)
        sessions.append(term)
        return term

    yield started
    if sessions:
        kill_server(socket)


def test_s1_demo_in_a_terminal_shares_an_unfinal_invoice_by_keys(
    terminal: Callable[[str], Terminal],
) -> None:
    term = terminal("demo")
    first = term.wait_for(lambda s: "Details" in s and "2026-00" in s, "the Matters list")
    assert "Matters" in first and "Activities" in first and "Setup" in first
    assert "Demo Administrator" in first  # the header names the staff user

    term.keys("2")  # Activities, its first list (Invoices) focused
    rows = term.wait_for(lambda s: "INV-0" in s and "Draft" in s, "the invoices")
    invoices = [line for line in rows.splitlines() if "INV-0" in line]
    # A Draft invoice of a matter whose portal is ON (the demo's Aisha Okafor, 2022-0017).
    target = next(i for i, line in enumerate(invoices) if ON_MATTER in line and "Draft" in line)
    first_row = invoices[target]
    for _ in range(target):
        term.keys("Down")

    term.keys("a")
    term.shows(texts.SHARE_VIA_PORTAL)
    term.keys("Enter")
    term.shows(texts.UNFINAL_INVOICE_CONFIRM)
    term.keys("y")
    term.shows(texts.INVOICE_SHARED)
    term.keys("Enter")
    number = first_row.split("INV-")[1].split()[0]

    def shared(screen: str) -> bool:
        row = next((line for line in screen.splitlines() if f"INV-{number}" in line), "")
        return "Final" in row and texts.INVOICE_SHARED not in screen

    term.wait_for(shared, "the invoice marked Final")
    # Quit once the share has reached the portal: quitting before asks first (tested apart).
    term.wait_for(lambda s: "waiting for delivery" not in s, "the share delivered")
    term.keys("q")
    term.shows("EXIT=0")


def test_an_unknown_staff_user_ends_in_one_line_on_the_terminal(
    terminal: Callable[[str], Terminal],
) -> None:
    term = terminal("--staff-user nobody demo")
    shown = term.shows("EXIT=2")
    lines = [line for line in shown.splitlines() if line.startswith("portal-tui:")]
    assert len(lines) == 1, shown
    assert "nobody" in joined(shown)
    assert "Traceback" not in shown


NASTY_AUTHOR = "Eve\x1b]0;PWNED\x07\x1b[2J"
NASTY_BODY = (
    "\x1b[31mRED\x1b[0m \x1b]52;c;ZXZpbA==\x07 \x1b]8;;http://evil.example\x1b\\link"
    "\x1b]8;;\x1b\\ \u202eevil [bold]loud[/bold]"
)
# What would have obeyed the client, byte for byte, had it reached the terminal.
OBEYED = [
    b"\x1b]0;PWNED",
    b"\x1b]52;",
    b"\x1b]8;;http://evil",
    b"\x1b[31mRED",
    "\u202e".encode(),
]


def test_client_text_reaches_the_terminal_shown_never_obeyed(
    terminal: Callable[[str], Terminal], tmp_path: Path
) -> None:
    """A client's reply, applied by sync, with escapes in its author's name and body: the
    Messages section shows them as visible placeholders; not one of them is in the bytes the
    app writes to the terminal (read through tmux pipe-pane)."""
    from portal_tui.sqltypes import utcnow

    from .tui.helpers import ADMIN, build_firm

    firm = build_firm(tmp_path)
    firm.system.record_client_reply(
        firm.on_matter,
        portal_ref="reply-1",
        author_name=NASTY_AUTHOR,
        body=NASTY_BODY,
        sent_at=utcnow(),
    )
    url = firm.url
    firm.system.close()
    written = tmp_path / "written.bin"
    term = terminal(f"--database-url {url} --staff-user {ADMIN}")
    term.record(written)
    matters = term.wait_for(lambda s: "2026-0003" in s, "the Matters list")
    rows = [line for line in matters.splitlines() if "2026-000" in line]
    for _ in range(next(i for i, line in enumerate(rows) if "2026-0003" in line)):
        term.keys("Down")
    term.keys("Enter")
    term.shows("Summary")
    for _ in range(6):
        term.keys("Down")
    term.keys("Enter")
    shown = term.wait_for(lambda s: "PWNED" in s, "the client's reply")
    term.keys("Tab")
    shown = term.wait_for(lambda s: "RED" in s and "loud" in s, "the reply's text")
    assert "\u241b]0;PWNED\u2407" in shown  # made visible
    assert "[bold]loud[/bold]" in shown  # markup literal
    data = written.read_bytes()
    assert b"PWNED" in data, "the capture saw the screen"
    for sequence in OBEYED:
        assert sequence not in data, sequence


def test_ctrl_c_quits_with_130_and_asks_first_over_unsaved_work(
    terminal: Callable[[str], Terminal],
) -> None:
    term = terminal("demo")
    term.wait_for(lambda s: "Details" in s and "2026-00" in s, "the Matters list")
    term.keys("3")  # Setup > Staff > Add staff user: a form with something typed
    term.shows("Intake Forms")
    term.keys("Down", "Down", "Down")  # Client Portal, Intake Forms, Clients, Staff
    term.keys("Enter")
    term.shows("Role")
    term.keys("a")
    term.shows("Add staff user")
    # Ctrl+C straight behind the letters, as keys typed ahead over SSH arrive: the question
    # must count them although the field may not have handled them yet when Ctrl+C comes.
    term.keys("-l", "rvance")
    term.keys("C-c")
    term.shows(texts.DISCARD_QUESTION)  # the typing is not thrown away unasked
    term.keys("n")
    term.wait_for(lambda s: texts.DISCARD_QUESTION not in s and "rvance" in s, "the form again")
    term.keys("C-c")
    term.shows(texts.DISCARD_QUESTION)
    term.keys("y")
    term.shows("EXIT=130")
