"""Staff over SSH, for real: an OpenSSH server of the test's own on loopback, whose
authorized_keys line forces `command="portal-tui --staff-user LOGIN",restrict,pty` as the
README's "Staff over SSH" says, and the `ssh` client in a tmux pane. Each key is one staff
user; whatever command the client asks for, the app is what runs; TERM picks the glyphs; a
resize redraws; a connection killed mid-share leaves the share whole or not begun."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal_tui.domain import texts

from .tmux import Terminal, kill_server, run_in_terminal, terminal_env
from .tui.helpers import BILLING, NORMAL, build_firm

SSHD = Path("/usr/sbin/sshd")

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(
        not SSHD.exists() or shutil.which("ssh") is None,
        reason="OpenSSH is not installed (.ci/run installs openssh-server and openssh-client)",
    ),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="sshd runs as root here (.ci/run runs the tests as root)"
    ),
]

# The staff users the two keys are: `ssh -i KEY` picks who opens the app.
NAMES = {NORMAL: "Jo Normal", BILLING: "Bea Billing"}


@dataclass
class Door:
    """The test's sshd, its firm, and how to reach it as each staff user."""

    port: int
    folder: Path
    database: Path
    tmux_socket: Path
    env: dict[str, str]

    def key(self, login: str) -> Path:
        return self.folder / f"key-{login}"

    def ssh(self, login: str, *, term: str = "xterm-256color", command: str = "") -> Terminal:
        """`ssh -tt` as `login` in a new tmux session; `command`, if any, is what the client
        asks the server to run instead of a login."""
        args = [*self.ssh_args(login), *([command] if command else [])]
        return run_in_terminal(self.tmux_socket, self.env, f"TERM={term} {shlex.join(args)}")

    def ssh_args(self, login: str, *, tty: str = "-tt") -> list[str]:
        return [
            "ssh",
            tty,
            "-F",
            "/dev/null",
            "-p",
            str(self.port),
            "-i",
            str(self.key(login)),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            f"UserKnownHostsFile={self.folder / 'known_hosts'}",
            "-o",
            "StrictHostKeyChecking=yes",
            f"{_os_login()}@127.0.0.1",
        ]

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.database) as db:
            return db.execute(sql, params).fetchall()

    def apps(self) -> list[int]:
        """The app processes serving this door's firm (their environment names its folder)."""
        marker = f"PORTAL_TUI_DATA_DIR={self.folder / 'data'}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue  # gone already, or a kernel thread
            if marker in environ.split(b"\0") and b"portal_tui" in cmdline:
                found.append(int(entry.name))
        return found


def _os_login() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
        timeout=30,
    )
    return path.with_suffix(".pub").read_text().strip()


def _sshd_config(folder: Path, port: int, app_env: dict[str, str]) -> str:
    """What an administrator's sshd_config would say for staff keys, plus what a throwaway
    server needs: its own host key, pid file and authorized_keys file, and no StrictModes (the
    test's folder is under /tmp, which every user may write to)."""
    settings = " ".join(f"{k}={v}" for k, v in app_env.items())
    return "\n".join(
        [
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {folder / 'host_key'}",
            f"PidFile {folder / 'sshd.pid'}",
            f"AuthorizedKeysFile {folder / 'authorized_keys'}",
            f"AllowUsers {_os_login()}",
            "StrictModes no",
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "PermitUserEnvironment no",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            # Where the firm is: on a firm's server, the Unix account's own data folder.
            f"SetEnv {settings}",
            "LogLevel VERBOSE",
            "",
        ]
    )


@pytest.fixture
def door(tmp_path: Path) -> Iterator[Door]:
    firm = build_firm(tmp_path)
    firm.system.close()
    database = tmp_path / "firm.db"
    app_env = {
        "PORTAL_TUI_CONFIG": str(tmp_path / "config.toml"),
        "PORTAL_TUI_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_TUI_DATABASE_URL": f"sqlite:///{database}",
        "LANG": "C.UTF-8",
    }
    app = f"{sys.executable} -m portal_tui"
    lines = []
    for login in NAMES:
        public = _keygen(tmp_path / f"key-{login}")
        lines.append(f'command="{app} --staff-user {login}",restrict,pty {public}')
    (tmp_path / "authorized_keys").write_text("\n".join(lines) + "\n")
    host_public = _keygen(tmp_path / "host_key")

    # sshd wants its privilege separation folder, which Debian's service unit makes at boot.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    started = None
    for _ in range(5):  # a port found free can be taken before sshd binds it
        port = _free_port()
        (tmp_path / "sshd_config").write_text(_sshd_config(tmp_path, port, app_env))
        log = (tmp_path / "sshd.log").open("ab")
        sshd = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(tmp_path / "sshd_config"), "-p", str(port)],
            stdout=log,
            stderr=log,
        )
        if _listening(port, sshd):
            started = sshd
            break
    assert started is not None, (tmp_path / "sshd.log").read_text()
    (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_public}\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))}
    built = Door(port, tmp_path, database, tmp_path / "tmux.sock", terminal_env(env, tmp_path))
    try:
        yield built
    finally:
        kill_server(built.tmux_socket)
        started.terminate()
        started.wait(timeout=10)
        for pid in built.apps():  # what a failed test may have left
            os.kill(pid, signal.SIGKILL)


def _listening(port: int, sshd: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sshd.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    sshd.kill()
    return False


def _matters(term: Terminal) -> str:
    return term.wait_for(lambda s: "2026-0003" in s and "Estate of Byrne" in s, "the Matters")


def _gone(door: Door, what: str) -> None:
    deadline = time.monotonic() + 20
    while door.apps():
        assert time.monotonic() < deadline, f"the app still runs after {what}"
        time.sleep(0.1)


def _invoice_share(door: Door, number: str) -> tuple[object, ...]:
    """(status, share wanted, share state, publish rows, share audit entries) of `number`."""
    ((item_id, status),) = door.query("SELECT id, status FROM invoices WHERE number = ?", number)
    marks = door.query(
        "SELECT wanted, state FROM share_marks WHERE kind = 'invoice' AND item_id = ?", item_id
    )
    wanted, state = marks[0] if marks else (None, None)
    (published,) = door.query(
        "SELECT count(*) FROM outbox WHERE op = 'publish' AND kind = 'invoice' AND item_id = ?",
        item_id,
    )[0]
    (audited,) = door.query(
        "SELECT count(*) FROM audit_trail WHERE action = 'share' AND kind = 'invoice'"
        " AND item_id = ?",
        item_id,
    )[0]
    return status, wanted, state, published, audited


def _open_invoices(term: Terminal) -> list[str]:
    term.keys("2")  # Activities, its first list (Invoices) focused
    shown = term.wait_for(lambda s: "INV-0002" in s and "Draft" in s, "the invoices")
    return [line for line in shown.splitlines() if "INV-000" in line]


def _go_to(term: Terminal, rows: list[str], number: str) -> None:
    for _ in range(next(i for i, line in enumerate(rows) if number in line)):
        term.keys("Down")


def test_each_key_opens_the_app_as_its_staff_user_and_shares_an_invoice(door: Door) -> None:
    term = door.ssh(BILLING)
    first = _matters(term)
    assert NAMES[BILLING] in first and NAMES[NORMAL] not in first
    rows = _open_invoices(term)
    _go_to(term, rows, "INV-0001")  # Final, on a matter whose portal is ON
    term.keys("s")
    term.shows(texts.INVOICE_SHARED)
    term.keys("Enter")
    term.wait_for(lambda s: texts.INVOICE_SHARED not in s, "the notice closed")
    assert _invoice_share(door, "INV-0001")[1:] in {
        (1, "pending", 1, 1),
        (1, "shared", 1, 1),
    }
    # Audited as the staff user of the key, not the Unix account it runs under.
    assert door.query(
        "SELECT actor FROM audit_trail WHERE action = 'share' AND kind = 'invoice'"
    ) == [(BILLING,)]
    term.keys("q")
    term.shows("EXIT=0")
    _gone(door, "q")

    other = door.ssh(NORMAL)
    assert NAMES[NORMAL] in _matters(other)


def test_a_resize_redraws_the_app_at_its_new_size_on_every_screen(door: Door) -> None:
    """tmux resizes the pane, ssh sends the new size, sshd sets it on the app's terminal and
    the app gets SIGWINCH: the footer moves to the new last line and nothing is cut off."""
    term = door.ssh(NORMAL)
    _matters(term)

    def fits(columns: int, lines: int) -> Callable[[str], bool]:
        def test(screen: str) -> bool:
            shown = screen.splitlines()
            # The header's firm name on the first line, the footer's keys on the last.
            return (
                len(shown) == lines
                and "Hale & Forde" in shown[0]
                and "Keys" in shown[-1]
                and all(len(line) <= columns for line in shown)
            )

        return test

    # The invoices open at 132 columns, where every column is whole, and then narrow.
    sizes = iter([(132, 43), (80, 24), (100, 30)])
    for step in ("Matters", "Invoices", "the question"):
        columns, lines = next(sizes)
        if step == "Invoices":
            rows = _open_invoices(term)
            _go_to(term, rows, "INV-0002")  # a Draft: sharing it asks first
        if step == "the question":
            term.keys("s")
            term.shows(texts.UNFINAL_INVOICE_CONFIRM)
        term.tmux("resize-window", "-t", term.name, "-x", str(columns), "-y", str(lines))
        shown = term.wait_for(fits(columns, lines), f"{step} at {columns}x{lines}")
        if step == "the question":
            assert "Final" in " ".join(shown.split()), "the question is still whole"
    term.keys("n")
    term.wait_for(lambda s: texts.UNFINAL_INVOICE_CONFIRM[:20] not in s, "the question gone")
    assert _invoice_share(door, "INV-0002") == ("draft", None, None, 0, 0)


def test_a_connection_killed_mid_share_leaves_the_share_whole_or_not_begun(
    door: Door,
) -> None:
    """The client's `ssh` killed the moment Yes is pressed: sshd hangs up the app's terminal
    (SIGHUP), the app ends, and the database holds either the whole share — Final, its mark,
    its outbox row, its audit entry — or none of it. The next connection shows the same; a
    share the app had made but not yet delivered is delivered by the next app."""
    term = door.ssh(NORMAL)
    _matters(term)
    rows = _open_invoices(term)
    _go_to(term, rows, "INV-0002")
    term.keys("s")
    term.shows(texts.UNFINAL_INVOICE_CONFIRM)
    _hang_up(door, term, "y")

    state = _invoice_share(door, "INV-0002")
    whole = {("final", 1, "pending", 1, 1), ("final", 1, "shared", 1, 1)}
    assert state in whole | {("draft", None, None, 0, 0)}, state

    again = door.ssh(NORMAL)
    _matters(again)
    rows = _open_invoices(again)
    row = next(line for line in rows if "INV-0002" in line)
    assert ("Final" in row) is (state[0] == "final"), row
    if state[0] == "final":
        _delivered(door, "INV-0002")
    # Hung up with the success notice on screen: the share is made, whatever was delivered.
    _go_to(again, rows, "INV-0001")
    again.keys("s")
    again.shows(texts.INVOICE_SHARED)
    _hang_up(door, again)
    _status, wanted, _state, published, audited = _invoice_share(door, "INV-0001")
    assert (wanted, published, audited) == (1, 1, 1)
    _matters(door.ssh(NORMAL))
    _delivered(door, "INV-0001")


def _hang_up(door: Door, term: Terminal, *last_keys: str) -> None:
    """Kill the `ssh` client in `term` (after sending `last_keys`, if any) as a dropped link
    would end it, and wait for the app on the other end to be gone."""
    pane_shell = int(term.tmux("display-message", "-p", "-t", term.name, "#{pane_pid}"))
    (ssh_pid,) = (int(p) for p in _children(pane_shell))
    if last_keys:
        term.keys(*last_keys)
    os.kill(ssh_pid, signal.SIGKILL)
    _gone(door, "its connection was killed")


def _delivered(door: Door, number: str) -> None:
    deadline = time.monotonic() + 30
    while _invoice_share(door, number)[2] != "shared":
        assert time.monotonic() < deadline, f"{number}'s share was never delivered"
        time.sleep(0.2)


def _children(pid: int) -> list[str]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert found, f"no ssh under the pane's shell {pid}"
    return found


@pytest.mark.parametrize(
    ("term", "ascii_only"),
    [
        ("xterm-256color", False),
        ("screen-256color", False),
        ("tmux-256color", False),
        ("linux", True),
        ("vt100", True),
    ],
)
def test_the_clients_term_picks_the_glyphs(door: Door, term: str, ascii_only: bool) -> None:
    """The staff member's TERM travels with the SSH connection: a VT100 or the Linux console
    gets nothing but ASCII; the others get the Unicode borders."""
    shown = _matters(door.ssh(NORMAL, term=term))
    assert shown.isascii() is ascii_only, shown


def test_keys_typed_ahead_arrive_in_order(door: Door) -> None:
    """A filter typed in one burst, as a slow link delivers it: every character, in order."""
    term = door.ssh(NORMAL)
    _matters(term)
    term.keys("/", "-l", "Byrne")
    shown = term.wait_for(
        lambda s: "Byrne" in s and "2026-0001" not in s and "2026-0002" not in s,
        "the Matters filtered to Byrne",
    )
    assert "2026-0003" in shown


@pytest.mark.parametrize(
    "command", ["echo ESCAPED; id", "/bin/sh", "portal-tui --staff-user admin"]
)
def test_the_forced_command_runs_whatever_the_client_asks(door: Door, command: str) -> None:
    """`ssh host other-command` still opens the app, as the key's staff user."""
    term = door.ssh(NORMAL, command=command)
    shown = _matters(term)
    assert NAMES[NORMAL] in shown and "Avery Admin" not in shown
    assert "ESCAPED" not in shown and "uid=" not in shown
    term.keys("q")
    assert "ESCAPED" not in term.shows("EXIT=0")


def test_a_command_without_a_terminal_gets_the_apps_piped_output_only(door: Door) -> None:
    """`ssh -T host CMD` (no terminal asked for): the forced command still runs the app, which
    with no terminal prints the key's staff user's matters and exits; CMD never runs."""
    done = subprocess.run(
        [*door.ssh_args(NORMAL, tty="-T"), "cat /etc/passwd"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert "root:" not in done.stdout + done.stderr
    assert "Estate of Byrne" in done.stdout, done.stdout + done.stderr
