"""One SSH session of the door: the staff app, `portal-tui --staff-user LOGIN` of this same
installation, in a process of its own.

With a terminal asked for (`ssh host`), the app gets a pseudo-terminal of its own with the
client's TERM and window size; a window change is set on it and signalled to the app
(SIGWINCH), as sshd does. Without one (`ssh -T host`), the app's output is piped back, and the
app prints the staff user's matters and exits, as with its output piped anywhere. Whatever
command the client asks for (`ssh host rm -rf ~`) the app is what runs, and the command never
does; a subsystem (sftp) is refused.

The app starts a session of its own (setsid), so a hang-up reaches it and everything it
started: SIGHUP to its process group when the connection ends, SIGKILL if it is still there a
few seconds later. No key pressed for the idle time ends it the same way, with a line saying
why."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Mapping
from typing import Any

import asyncssh

from portal_tui.domain import texts

log = logging.getLogger("portal-tui.ssh")

READ_SIZE = 65536
HANG_UP_GRACE_S = 5.0
# The environment the app must not take from the door's own: the door's terminal is not the
# client's, and the size comes from the client's window.
_NOT_PASSED = ("TERM", "COLUMNS", "LINES", "TEXTUAL_DRIVER", "SSH_AUTH_SOCK")


def app_command(login: str) -> list[str]:
    return [sys.executable, "-m", "portal_tui", "--staff-user", login]


def app_environment(base: Mapping[str, str], term: str | None) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k not in _NOT_PASSED}
    env["TERM"] = term or "dumb"
    return env


def _time_shown(seconds: float) -> str:
    """ "30 minutes", "90 seconds", "1 hour": the idle time as the staff member reads it."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and (seconds % size == 0 or unit == "second"):
            count = round(seconds / size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds:g} seconds"


def _set_size(fd: int, width: int, height: int, pixwidth: int, pixheight: int) -> None:
    size = struct.pack("HHHH", max(height, 1), max(width, 1), pixwidth, pixheight)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, size)


class AppSession(asyncssh.SSHServerSession[bytes]):
    """The channel's side of one app process."""

    def __init__(
        self,
        login: str,
        env: Mapping[str, str],
        idle_timeout_s: float,
        ended: Callable[[], None],
    ) -> None:
        self.login = login
        self._env = env
        self._idle_s = idle_timeout_s
        self._ended = ended
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._term: str | None = None
        self._size = (80, 24, 0, 0)
        self._master: int | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._pending_input = bytearray()
        self._last_key = time.monotonic()
        self._reading = False
        self._idle_closed = False
        self._lost = False
        self._starting = False
        self._done = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def started(self) -> bool:
        """Whether the client has asked for the app (a shell or a command) yet."""
        return self._starting or self._process is not None

    # What the client asks for ---------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Mapping[int, int]
    ) -> bool:
        self._term = term_type
        if term_size[0] and term_size[1]:
            self._size = term_size
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        # What a forced command does: the app runs, the command asked for never does.
        log.info("%s asked to run %r: the app runs instead", self.login, command[:200])
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        log.info("%s asked for the %r subsystem: refused", self.login, subsystem[:60])
        return False

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if not width or not height:
            return
        self._size = (width, height, pixwidth, pixheight)
        if self._master is None:
            return
        with contextlib.suppress(OSError):
            _set_size(self._master, width, height, pixwidth, pixheight)
        self._signal(signal.SIGWINCH)

    def session_started(self) -> None:
        self._starting = True
        self._spawn(self._start())

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self._last_key = time.monotonic()
        if self._master is None:
            return  # no terminal: the app reads nothing
        self._pending_input += data
        self._write_input()

    def eof_received(self) -> bool:
        # The client sends no more (`ssh -T host < /dev/null` does at once): the app goes on,
        # and the channel stays open for what it writes, until it ends.
        return True

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal_name: str) -> None:
        pass  # the client's ^C arrives as a key; a signal request is not the app's business

    def pause_writing(self) -> None:
        self._stop_reading()

    def resume_writing(self) -> None:
        self._start_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._stop_reading()
        if self._process is not None and self._process.returncode is None:
            self._hang_up(self._process)  # _finish ends the session once the app is gone
        elif not self._starting:  # the app has ended, or none was ever started
            self._end_once()

    # The app process ------------------------------------------------------------------------

    async def _start(self) -> None:
        assert self._chan is not None
        env = app_environment(self._env, self._term)
        try:
            if self._term is not None:
                process = await self._start_in_terminal(env)
            else:
                process = await asyncio.create_subprocess_exec(
                    *app_command(self.login),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                    start_new_session=True,
                )
        except OSError as exc:
            if not self._chan.is_closing():
                self._chan.write_stderr(f"portal-tui: the app cannot start: {exc}\r\n".encode())
                self._chan.exit(1)
            self._starting = False
            if self._lost:
                self._end_once()
            return
        self._process = process
        log.info("%s: the app runs (pid %d)", self.login, process.pid)
        if self._lost:  # the client went while the app was starting
            self._hang_up(process)
        pipes = []
        if self._term is None:
            assert process.stdout is not None and process.stderr is not None
            pipes.append(self._pipe(process.stdout, self._chan.write))
            pipes.append(self._pipe(process.stderr, self._chan.write_stderr))
        if self._idle_s > 0:
            self._spawn(self._watch_idle())
        await asyncio.gather(*pipes)  # all the app wrote, before its status
        status = await process.wait()
        await self._drain()
        self._finish(status)

    async def _start_in_terminal(self, env: dict[str, str]) -> asyncio.subprocess.Process:
        master, slave = os.openpty()
        try:
            _set_size(slave, *self._size)
            process = await asyncio.create_subprocess_exec(
                *app_command(self.login),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                start_new_session=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        self._start_reading()
        self._write_input()
        return process

    def _finish(self, status: int) -> None:
        if self._master is not None:
            self._stop_reading()
            os.close(self._master)
            self._master = None
        chan = self._chan
        if chan is not None and not chan.is_closing():
            if self._idle_closed:
                said = texts.SSH_DOOR_IDLE.format(time=_time_shown(self._idle_s))
                chan.write_stderr(f"\r\n{said}\r\n".encode())
            chan.exit(status if status >= 0 else 128 - status)
        log.info("%s: the app ended (status %d)", self.login, status)
        self._starting = False
        if self._lost or chan is None:
            self._end_once()
        # else the channel closes once the client has read everything (connection_lost)

    def _end_once(self) -> None:
        if not self._done:
            self._done = True
            self._ended()

    def _hang_up(self, process: asyncio.subprocess.Process) -> None:
        """As a terminal hung up: SIGHUP, then SIGKILL if the app is still there."""
        self._signal(signal.SIGHUP)
        self._spawn(self._kill_later(process))

    async def _kill_later(self, process: asyncio.subprocess.Process) -> None:
        try:
            await asyncio.wait_for(process.wait(), HANG_UP_GRACE_S)
        except TimeoutError:
            self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, number)  # its own session: its group is its pid

    async def _watch_idle(self) -> None:
        step = min(30.0, max(self._idle_s / 4, 0.2))
        while self._process is not None and self._process.returncode is None:
            await asyncio.sleep(step)
            if time.monotonic() - self._last_key >= self._idle_s:
                log.info("%s: no key pressed for %ss: the app is closed", self.login, self._idle_s)
                self._idle_closed = True
                self._hang_up(self._process)
                return

    # Bytes both ways --------------------------------------------------------------------------

    def _start_reading(self) -> None:
        if self._master is not None and not self._reading:
            asyncio.get_running_loop().add_reader(self._master, self._read_output)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._master is not None and self._reading:
            asyncio.get_running_loop().remove_reader(self._master)
        self._reading = False

    def _read_output(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: the app's side of the terminal is closed
            data = b""
        if not data:
            self._stop_reading()
            return
        if self._chan is not None and not self._chan.is_closing():
            self._chan.write(data)

    async def _drain(self) -> None:
        """What the app wrote just before it ended (its terminal put back as it was)."""
        if self._master is None or self._chan is None:
            return
        while True:
            try:
                data = os.read(self._master, READ_SIZE)
            except OSError:
                return
            if not data:
                return
            if not self._chan.is_closing():
                self._chan.write(data)

    def _write_input(self) -> None:
        if self._master is None:
            return
        loop = asyncio.get_running_loop()
        loop.remove_writer(self._master)
        while self._pending_input:
            try:
                done = os.write(self._master, self._pending_input)
            except BlockingIOError:
                loop.add_writer(self._master, self._write_input)  # the app is behind: wait
                return
            except OSError:
                self._pending_input.clear()
                return
            del self._pending_input[:done]

    async def _pipe(self, stream: asyncio.StreamReader, write: Callable[[Any], None]) -> None:
        while data := await stream.read(READ_SIZE):
            if self._chan is not None and not self._chan.is_closing():
                write(data)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done_with)

    def _done_with(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: the session failed", self.login, exc_info=task.exception())
