"""`portal-tui ssh-serve`, run as a program on loopback, and a real asyncssh client: each key
registered with `portal-tui staff key add` opens the app as its staff user (its header read
off the channel), two keys are two staff users at once, an unknown key and a disabled user
are refused, whatever command the client asks for the app is what runs, the connection limit
and the idle timeout say why they close, the host key is private, and the firm's audit trail
holds each login and each refusal."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .tui.helpers import ADMIN, BILLING, NORMAL, build_firm

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # cryptography's word on DSA
    import asyncssh

NAMES = {NORMAL: "Jo Normal", BILLING: "Bea Billing"}
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z~]|\x1b[()][A-Z0-9]|\x1b[=>78]|\x1b\][^\x07]*\x07")
WAIT_S = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Door:
    port: int
    folder: Path
    database: Path
    env: dict[str, str]
    process: subprocess.Popen[str]

    def key(self, name: str) -> asyncssh.SSHKey:
        return asyncssh.read_private_key(self.folder / f"key-{name}")

    def host_key_file(self) -> Path:
        return self.folder / "data" / "ssh-door" / "host_key"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "portal_tui", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    def audit(self) -> list[tuple[str, str, dict[str, object]]]:
        """(actor, action, details) of each door entry, oldest first."""
        with sqlite3.connect(self.database) as db:
            rows = db.execute(
                "SELECT actor, action, after FROM audit_trail WHERE action LIKE 'door.%'"
                " ORDER BY id"
            ).fetchall()
        return [(actor, action, json.loads(after)) for actor, action, after in rows]

    def refusals(self, count: int) -> list[tuple[str, object]]:
        """(actor, reason) of the door's refusals, once there are `count` of them (the door
        writes each just after it answers the client)."""
        return self._entries("door.refused", count, lambda e: e.get("reason"))

    def sign_ins(self, count: int) -> list[tuple[str, object]]:
        """(actor, door) of the sign-ins, once there are `count` of them."""
        return self._entries("door.sign_in", count, lambda e: e.get("door"))

    def _entries(
        self, action: str, count: int, detail: Callable[[dict[str, object]], object]
    ) -> list[tuple[str, object]]:
        deadline = time.monotonic() + 30
        while True:
            found = [(actor, detail(e)) for actor, act, e in self.audit() if act == action]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def connect(self, name: str) -> asyncssh.connection._ConnectContextManager:  # type: ignore[name-defined]
        host = asyncssh.read_private_key(self.host_key_file()).convert_to_public()
        return asyncssh.connect(
            "127.0.0.1",
            self.port,
            username="anyone",  # the key says who, not the name asked for
            client_keys=[self.key(name)],
            known_hosts=([host], [], []),
            agent_path=None,
            config=None,
        )


def _keygen(folder: Path, name: str) -> Path:
    key = asyncssh.generate_private_key("ssh-ed25519", comment=name)
    key.write_private_key(folder / f"key-{name}")
    key.write_public_key(folder / f"key-{name}.pub")
    return folder / f"key-{name}.pub"


@pytest.fixture
def start_door(tmp_path: Path) -> Iterator[Callable[..., Door]]:
    """A door on a free loopback port over the test firm, with NORMAL's and BILLING's keys
    registered by the Admin; `start_door(*flags)` for flags of its own."""
    firm = build_firm(tmp_path)
    firm.system.close()
    database = tmp_path / "firm.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))}
    env.update(
        PORTAL_TUI_CONFIG=str(tmp_path / "config.toml"),
        PORTAL_TUI_DATA_DIR=str(tmp_path / "data"),
        PORTAL_TUI_DATABASE_URL=f"sqlite:///{database}",
        LANG="C.UTF-8",
    )
    for login in NAMES:
        public = _keygen(tmp_path, login)
        added = subprocess.run(
            [sys.executable, "-m", "portal_tui", "--staff-user", ADMIN,
             "staff", "key", "add", login, str(public)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    _keygen(tmp_path, "stranger")  # never registered
    started: list[subprocess.Popen[str]] = []

    def start(*flags: str) -> Door:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "portal_tui", "ssh-serve", "--port", str(port), *flags],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "portal-tui ssh-serve did not start"
                time.sleep(0.1)
        return Door(port, tmp_path, database, env, process)

    try:
        yield start
    finally:
        for process in started:
            process.terminate()  # the door hangs up every app it runs
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def door(start_door: Callable[..., Door]) -> Door:
    return start_door()


async def _screen_until(
    process: asyncssh.SSHClientProcess[bytes], want: Callable[[str], bool]
) -> str:
    seen = ""
    while not want(seen):
        data = await process.stdout.read(65536)
        if not data:
            break
        seen += ANSI.sub("", data.decode("utf-8", "replace"))
    return seen


def shows(*texts: str) -> Callable[[str], bool]:
    return lambda seen: all(text in seen for text in texts)


async def app_screen(
    door: Door, name: str, want: Callable[[str], bool], command: str | None = None
) -> str:
    """What the app draws for `name`'s key (in a terminal), until `want` says it is there."""

    async def drawn() -> str:
        async with door.connect(name) as conn:
            process = await conn.create_process(
                command, term_type="xterm-256color", term_size=(110, 30), encoding=None
            )
            seen = await _screen_until(process, want)
            process.stdin.write(b"q")
            await process.wait_closed()
            return seen

    return await asyncio.wait_for(drawn(), WAIT_S)


def _matters_of(name: str) -> Callable[[str], bool]:
    return shows("2026-0003", "Estate of Byrne", NAMES[name])


def test_a_registered_key_opens_the_app_as_its_staff_user_and_two_keys_are_two(
    door: Door,
) -> None:
    async def both() -> tuple[str, str]:
        normal, billing = await asyncio.gather(
            app_screen(door, NORMAL, _matters_of(NORMAL)),
            app_screen(door, BILLING, _matters_of(BILLING)),
        )
        return normal, billing

    normal, billing = asyncio.run(both())
    assert _matters_of(NORMAL)(normal) and NAMES[BILLING] not in normal
    assert _matters_of(BILLING)(billing) and NAMES[NORMAL] not in billing
    assert "Hale & Forde LLP" in normal
    assert sorted(door.sign_ins(2)) == sorted([(NORMAL, "ssh"), (BILLING, "ssh")])


def test_an_unknown_key_is_refused_and_the_refusal_is_audited(door: Door) -> None:
    async def attempt() -> None:
        async with door.connect("stranger"):
            pass

    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(asyncio.wait_for(attempt(), WAIT_S))
    stranger = door.key("stranger").get_fingerprint("sha256")
    assert door.refusals(1), "no refusal in the audit trail"
    ((actor, action, entry),) = door.audit()
    assert action == "door.refused" and actor == "ssh door"
    assert entry["reason"] == "unknown key" and entry["fingerprints"] == [stranger]


async def _refusal(door: Door, name: str) -> str:
    """The reason the door gives when it lets the key's holder in only to turn them away."""
    lost: list[BaseException | None] = []

    class Client(asyncssh.SSHClient):
        def connection_lost(self, exc: Exception | None) -> None:
            lost.append(exc)

    host = asyncssh.read_private_key(door.host_key_file()).convert_to_public()
    try:
        conn, _ = await asyncssh.create_connection(
            Client,
            "127.0.0.1",
            door.port,
            username="anyone",
            client_keys=[door.key(name)],
            known_hosts=([host], [], []),
            agent_path=None,
            config=None,
        )
    except asyncssh.DisconnectError as exc:
        return exc.reason
    await asyncio.wait_for(conn.wait_closed(), WAIT_S)
    assert isinstance(lost[0], asyncssh.DisconnectError), lost
    return lost[0].reason


def test_a_disabled_staff_user_is_refused_at_login_and_told_why(door: Door) -> None:
    disabled = door.run("--staff-user", ADMIN, "staff", "disable", NORMAL)
    assert disabled.returncode == 0, disabled.stderr
    reason = asyncio.run(_refusal(door, NORMAL))
    assert f"the staff user {NORMAL} is disabled" in reason
    assert door.refusals(1) == [(NORMAL, "disabled staff user")]
    assert door.sign_ins(0) == []


def test_one_connection_over_the_limit_is_refused_with_a_message(
    start_door: Callable[..., Door],
) -> None:
    door = start_door("--max-connections", "1")

    async def second_while_first_runs() -> str:
        async with door.connect(BILLING) as conn:
            process = await conn.create_process(
                term_type="xterm-256color", term_size=(110, 30), encoding=None
            )
            await _screen_until(process, _matters_of(BILLING))
            reason = await _refusal(door, NORMAL)
            process.stdin.write(b"q")
            await process.wait_closed()
            return reason

    reason = asyncio.run(asyncio.wait_for(second_while_first_runs(), WAIT_S))
    assert "1 connections open, its limit" in reason
    assert door.refusals(1) == [(NORMAL, "over the connection limit")]
    # The first one's app has ended: its place is free again.
    again = asyncio.run(app_screen(door, NORMAL, _matters_of(NORMAL)))
    assert _matters_of(NORMAL)(again)


@pytest.mark.parametrize("command", ["echo ESCAPED; id", "/bin/sh"])
def test_an_exec_request_runs_the_app_never_the_command(door: Door, command: str) -> None:
    shown = asyncio.run(app_screen(door, NORMAL, _matters_of(NORMAL), command=command))
    assert _matters_of(NORMAL)(shown)
    assert "ESCAPED" not in shown and "uid=" not in shown


def test_without_a_terminal_the_app_prints_its_matters_and_a_subsystem_is_refused(
    door: Door,
) -> None:
    async def piped() -> asyncssh.SSHCompletedProcess:
        async with door.connect(NORMAL) as conn:
            done = await conn.run("cat /etc/passwd", term_type=None)
            with pytest.raises(asyncssh.Error):
                await conn.start_sftp_client()
            return done

    done = asyncio.run(asyncio.wait_for(piped(), WAIT_S))
    assert "Estate of Byrne" in str(done.stdout) and "root:" not in str(done.stdout)
    assert done.exit_status == 0


def test_a_connection_with_no_key_pressed_is_closed_with_a_line_saying_why(
    start_door: Callable[..., Door],
) -> None:
    door = start_door("--idle-timeout", "3s")

    async def idle() -> tuple[str, str, int | None]:
        async with door.connect(NORMAL) as conn:
            process = await conn.create_process(
                term_type="xterm-256color", term_size=(110, 30), encoding=None
            )
            # Whatever the app drew before the door closed it (on a busy machine its start
            # may take most of the idle time), then the door's word on why.
            await _screen_until(process, lambda _: False)
            errors = await process.stderr.read()
            await process.wait_closed()
            return errors.decode(), process.exit_status

    started = time.monotonic()
    errors, status = asyncio.run(asyncio.wait_for(idle(), WAIT_S))
    assert "closed after 3 seconds with no key pressed" in errors
    assert time.monotonic() - started >= 3 and status != 0


def test_the_host_key_is_private_and_kept(start_door: Callable[..., Door]) -> None:
    door = start_door()
    path = door.host_key_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first = asyncssh.read_private_key(path).get_fingerprint("sha256")
    second = start_door()  # a second start takes the same key
    assert asyncssh.read_private_key(second.host_key_file()).get_fingerprint("sha256") == first
    shown = asyncio.run(app_screen(second, BILLING, _matters_of(BILLING)))
    assert _matters_of(BILLING)(shown)


def test_a_window_resize_redraws_the_app_at_its_new_size(door: Door) -> None:
    """The client's window change reaches the app (its terminal's size, then SIGWINCH): at
    80x24 nothing is drawn below line 24; at 132x43 the app draws down to line 43."""

    async def resized() -> tuple[bytes, bytes]:
        async with door.connect(NORMAL) as conn:
            process = await conn.create_process(
                term_type="xterm-256color", term_size=(80, 24), encoding=None
            )
            before = b""
            while not _matters_of(NORMAL)(ANSI.sub("", before.decode("utf-8", "replace"))):
                before += await process.stdout.read(65536)
            process.change_terminal_size(132, 43)
            after = b""
            while b"\x1b[43;1H" not in after:
                data = await process.stdout.read(65536)
                assert data, "the app ended before it redrew"
                after += data
            process.stdin.write(b"q")
            await process.wait_closed()
            return before, after

    before, after = asyncio.run(asyncio.wait_for(resized(), WAIT_S))
    rows = [int(row) for row in re.findall(rb"\x1b\[(\d+);\d+H", before)]
    assert rows and max(rows) <= 24
    assert b"\x1b[43;1H" in after


def test_a_port_taken_or_a_host_key_file_that_is_not_one_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))}
    env.update(
        PORTAL_TUI_CONFIG=str(tmp_path / "config.toml"),
        PORTAL_TUI_DATA_DIR=str(tmp_path / "data"),
    )

    def serve(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "portal_tui", "ssh-serve", *args],
            env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = serve("--port", str(port))
    assert busy.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    assert len(busy.stderr.strip().splitlines()) == 1

    folder = tmp_path / "data" / "ssh-door"
    folder.mkdir(parents=True)
    (folder / "host_key").write_text("not a key\n")
    broken = serve("--port", str(_free_port()))
    assert broken.returncode == 2 and "not a host key portal-tui wrote" in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1
    assert (folder / "host_key").read_text() == "not a key\n"  # left for the admin to look at
    bad = serve("--idle-timeout", "soon")
    assert bad.returncode == 2 and "expected a time such as 30m" in bad.stderr
