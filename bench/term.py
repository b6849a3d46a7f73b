"""A program under a real pseudo-terminal of 120x40: every byte it writes is kept with the time
it arrived, so a benchmark can tell when a known string first reached the screen and how many
bytes a keystroke cost.

The screen is not emulated: a string is "on screen" once the program has written it (escape
sequences taken out), which is the moment a terminal would show it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

COLUMNS, LINES = 120, 40

# CSI, OSC, DCS/APC/PM strings, and the two-byte escapes: everything that is not text.
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    rb"|\x1b[P_^][^\x1b]*\x1b\\"
    rb"|\x1b[()*+][0-9A-Za-z]"
    rb"|\x1b[ -/]*[0-~]"
)

UP, DOWN, ENTER, ESCAPE, PAGE_DOWN = b"\x1b[A", b"\x1b[B", b"\r", b"\x1b", b"\x1b[6~"
CTRL_Q = b"\x11"


def plain(data: bytes) -> str:
    """The text a program wrote, its escape sequences taken out."""
    return _ESCAPES.sub(b"", data).decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Chunk:
    at: float  # time.perf_counter() when it was read
    data: bytes


class Timeout(Exception):
    """What was waited for did not come in time (the message says what)."""


class Terminal:
    """Runs `argv` with its stdin, stdout and stderr on a pty; a thread reads it all."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: str | None = None) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self._master = master
        self.chunks: list[Chunk] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._closed = False
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,  # its own session, so the pty becomes its terminal
            close_fds=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self._master], [], [], 0.2)
                if not ready:
                    if self.proc.poll() is not None:
                        break
                    continue
                data = os.read(self._master, 65536)
            except OSError:
                break
            if not data:
                break
            now = time.perf_counter()
            with self._arrived:
                self.chunks.append(Chunk(now, data))
                self._arrived.notify_all()
        with self._arrived:
            self._closed = True
            self._arrived.notify_all()

    # Reading ----------------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the output, to look only at what comes after it."""
        with self._lock:
            return len(self.chunks)

    def since(self, mark: int) -> list[Chunk]:
        with self._lock:
            return self.chunks[mark:]

    def bytes_since(self, mark: int, until: float | None = None) -> int:
        return sum(len(c.data) for c in self.since(mark) if until is None or c.at <= until)

    def wait_for(self, text: str, mark: int = 0, timeout: float = 30.0) -> float:
        """The time the chunk that completed `text` (after `mark`) arrived."""
        deadline = time.monotonic() + timeout
        scanned = mark
        buffer = b""
        while True:
            with self._arrived:
                fresh = self.chunks[scanned:]
                scanned += len(fresh)
                closed = self._closed
            for chunk in fresh:
                buffer += chunk.data
                if text in plain(buffer):
                    return chunk.at
            if closed:
                raise Timeout(f"the program ended before {text!r} appeared: {self.tail()!r}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(f"{text!r} did not appear within {timeout:.0f} s")
            with self._arrived:
                if len(self.chunks) == scanned and not self._closed:
                    self._arrived.wait(min(left, 0.5))

    def wait_output(self, mark: int, timeout: float = 10.0) -> float:
        """The time the first chunk after `mark` arrived."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.chunks) <= mark:
                left = deadline - time.monotonic()
                if self._closed:
                    raise Timeout(f"the program ended: {self.tail()!r}")
                if left <= 0:
                    raise Timeout(f"nothing was written within {timeout:.0f} s")
                self._arrived.wait(min(left, 0.5))
            return self.chunks[mark].at

    def burst_bytes(self, at: float, gap: float = 0.05) -> int:
        """Bytes from the start up to the end of the burst that holds time `at`: the burst
        goes on while chunks follow each other within `gap` seconds."""
        chunks = self.since(0)
        total, last = 0, None
        for chunk in chunks:
            if chunk.at > at and last is not None and chunk.at - last > gap:
                break
            total += len(chunk.data)
            last = chunk.at
        return total

    def wait_quiet(self, quiet: float, timeout: float = 30.0) -> float:
        """Wait until nothing was written for `quiet` seconds; returns the last byte's time."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                last = self.chunks[-1].at if self.chunks else self.started
            now = time.perf_counter()
            if now - last >= quiet:
                return last
            if time.monotonic() > deadline:
                raise Timeout(f"the program never went quiet for {quiet:.2f} s")
            time.sleep(min(quiet - (now - last), 0.05) + 0.001)

    def tail(self, n: int = 400) -> str:
        with self._lock:
            data = b"".join(c.data for c in self.chunks[-20:])
        return plain(data)[-n:]

    # Writing ----------------------------------------------------------------------------------

    def send(self, keys: bytes) -> float:
        """Type `keys`; returns the time they were written."""
        at = time.perf_counter()
        os.write(self._master, keys)
        return at

    def answer(self, keys: bytes, quiet: float, timeout: float = 10.0) -> int:
        """Type `keys`, wait for the program to answer and then to go quiet; the bytes of the
        answer. (Waiting for quiet alone would return at once if the answer were slow.)"""
        mark = self.mark()
        self.send(keys)
        self.wait_output(mark, timeout)
        self.wait_quiet(quiet)
        return self.bytes_since(mark)

    # Process ----------------------------------------------------------------------------------

    def rss_kib(self) -> tuple[int, int] | None:
        """(VmRSS, VmHWM) of the program in KiB, from /proc; None once it has gone."""
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            return None
        try:
            return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
        except (KeyError, ValueError):
            return None

    def close(self, quit_keys: bytes = CTRL_Q, timeout: float = 15.0) -> None:
        """Ask the program to quit with `quit_keys`; end it if it will not."""
        if self.proc.poll() is None and quit_keys:
            try:
                self.send(quit_keys)
                self.proc.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._reader.join(2)
        with contextlib.suppress(OSError):
            os.close(self._master)
