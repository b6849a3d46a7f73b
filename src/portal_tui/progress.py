"""A progress bar for a long command (an import of a big file): one line on a terminal,
rewritten in place with a carriage return, shown only once the work has taken a second and
redrawn at most ten times a second, so a quick import prints nothing and a long one pays
next to nothing for it. Not a terminal (a pipe, a log file): nothing at all."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

SHOW_AFTER = 1.0  # seconds: an import quicker than this shows no bar
REDRAW_EVERY = 0.1
WIDTH = 30


class ProgressLine:
    """`progress(done, total)` for a repository call; `finish()` ends the line it drew."""

    def __init__(
        self, stream: TextIO, label: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._stream = stream
        self._label = label
        self._clock = clock
        self._started = clock()
        self._drawn_at: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        if now - self._started < SHOW_AFTER:
            return
        if self._drawn_at is not None and now - self._drawn_at < REDRAW_EVERY and done < total:
            return
        self._drawn_at = now
        filled = WIDTH * done // total if total else WIDTH
        bar = "#" * filled + "." * (WIDTH - filled)
        self._stream.write(f"\r{self._label} [{bar}] {done:,}/{total:,}")
        self._stream.flush()

    def finish(self) -> None:
        """End the line drawn, if any (once: a second call does nothing)."""
        if self._drawn_at is not None:
            self._drawn_at = None
            self._started = float("inf")  # nothing more is drawn after the end
            self._stream.write("\n")
            self._stream.flush()


def progress_line(stream: TextIO, label: str) -> ProgressLine | None:
    """A progress line on `stream` if it is a terminal; None (no progress shown) if not."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    return ProgressLine(stream, label)
