"""The staff app in a real terminal: a tmux session running one `portal-tui` command, read as
the user sees it (capture-pane) and, with `record`, as the bytes the app writes to it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WIDTH, HEIGHT = 120, 40
TIMEOUT_S = 60.0


@dataclass
class Terminal:
    """One tmux session running one command; the pane is what the user sees."""

    name: str
    socket: Path

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def record(self, into: Path) -> None:
        """Every byte the program writes to the terminal from now on, appended to `into`, as
        it was written (before tmux interprets any of it)."""
        self.tmux("pipe-pane", "-o", "-t", self.name, f"cat >> {into}")

    def wait_for(
        self, test: Callable[[str], bool], what: str, *, timeout: float = TIMEOUT_S
    ) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if test(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{shown}")
            time.sleep(0.05)

    def shows(self, text: str) -> str:
        """Wait for `text`, word by word in order: a message box wraps its sentence, and what
        the list behind it shows continues each of its lines."""
        words = r"\W.*?".join(re.escape(word) for word in text.split())
        return self.wait_for(lambda s: re.search(words, joined(s)) is not None, repr(text))


def joined(screen: str) -> str:
    """The screen with its lines joined, so a message box's wrapped sentence reads whole."""
    return " ".join(" ".join(line.replace("│", " ").split()) for line in screen.splitlines())


def start(socket: Path, env: dict[str, str], args: str) -> Terminal:
    """`python -m portal_tui ARGS` in a new session of the tmux server at `socket`. The shell
    prints the exit status and stays, so a test can read what was left."""
    return run_in_terminal(socket, env, f"{sys.executable} -m portal_tui {args}")


def run_in_terminal(socket: Path, env: dict[str, str], program: str) -> Terminal:
    """The shell command `program` in a new session of the tmux server at `socket`; then the
    shell prints its exit status and stays."""
    name = f"t{uuid.uuid4().hex[:8]}"
    command = f"{program}; echo EXIT=$?; sleep 600"
    subprocess.run(
        [
            "tmux",
            "-S",
            str(socket),
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            command,
        ],
        env=env,
        check=True,
        timeout=10,
    )
    return Terminal(name, socket)


def terminal_env(env: dict[str, str], home: Path) -> dict[str, str]:
    """`env` for a program in a terminal: its own HOME, UTF-8, and the pane's own size
    (COLUMNS and LINES would override it: Textual reads them first)."""
    kept = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    return {**kept, "HOME": str(home), "LANG": "C.UTF-8", "TERM": "xterm-256color"}


def kill_server(socket: Path) -> None:
    subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True)
