"""Baseline for cold start: a bare Textual app that shows one line, and nothing else."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

LINE = "Hello from a bare Textual app"


class Hello(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(LINE)


if __name__ == "__main__":
    Hello().run()
