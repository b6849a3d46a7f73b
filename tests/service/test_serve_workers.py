"""`portal-tui serve --workers N`, run as the user runs it: several uvicorn processes on the one
socket the command bound, started and stopped as one service."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from portal_tui.service.config import ServiceConfig
from portal_tui.service.server import Supervisor

from .api.conftest import contact_body, firm_body, matter_body

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or not Path("/proc/self/stat").exists(),
    reason="worker processes need fork(); the checks read /proc",
)

STARTUP_TIMEOUT = 60


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_TUI_", "XDG_"))}
    return {
        **clean,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "PORTAL_TUI_CONFIG": str(tmp_path / "config.toml"),
        "PORTAL_TUI_DATA_DIR": str(tmp_path / "data"),
        "PYTHONIOENCODING": "utf-8",
    }


def portal_tui(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal_tui", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def children(pid: int) -> set[int]:
    """The live child processes of `pid`, from /proc."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def until(condition: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str
    token: str
    data: Path


@pytest.fixture
def served(env: dict[str, str], tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    made = portal_tui(env, "token", "create", "--staff", "worker", "--database", url)
    assert made.returncode == 0, made.stderr
    command = ["serve", "--port", "0", "--workers", "3", "--database", url]
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal_tui", *command],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the one start-up line, once every worker serves
        assert line.startswith("Portal service listening on http://127.0.0.1:"), (
            line + proc.communicate(timeout=30)[1]
        )
        assert "3 worker processes" in line
        base = line.split()[4]
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        yield Served(proc, base, made.stdout.strip(), Path(env["PORTAL_TUI_DATA_DIR"]))
    finally:
        if proc.poll() is None:
            for child in children(proc.pid):
                os.kill(child, signal.SIGKILL)
            proc.kill()
            proc.communicate()


def test_workers_share_the_port_send_mail_once_and_stop_together_on_sigterm(
    served: Served,
) -> None:
    workers = children(served.proc.pid)
    assert len(workers) == 3

    # Many connections at once, all answered by the one service.
    def ask(_: int) -> int:
        with httpx.Client(timeout=10) as http:
            return http.get(f"{served.base}/healthz").status_code

    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(ask, range(60))) == [200] * 60

    # The background mail sender runs (in one worker): an invitation goes out, once.
    auth = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=f"{served.base}/api/v1", timeout=10, headers=auth) as api:
        for path, body in (
            ("/firm", firm_body()),
            ("/matters/7", matter_body()),
            ("/contacts/3", contact_body()),
        ):
            answer = api.put(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            assert answer.status_code == 200, answer.text
    mail = served.data / "portal" / "mail"
    until(lambda: any(mail.glob("*.eml")), timeout=30)
    time.sleep(3)  # a second sender would have sent it again by now (they poll every 2 s)
    assert len(list(mail.glob("*.eml"))) == 1

    served.proc.send_signal(signal.SIGTERM)
    out, err = served.proc.communicate(timeout=30)
    assert served.proc.returncode == 0, err
    assert out == "", out  # nothing after the start-up line (read by the fixture)
    assert "Traceback" not in err
    assert not any(alive(pid) for pid in workers)


def test_a_worker_that_dies_is_replaced_and_workers_outlive_no_supervisor(
    served: Served,
) -> None:
    workers = children(served.proc.pid)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    until(lambda: len(children(served.proc.pid) - {victim}) == 3)
    assert httpx.get(f"{served.base}/healthz", timeout=5).status_code == 200

    # The supervisor killed outright (no chance to stop them): the workers stop by themselves.
    workers = children(served.proc.pid)
    served.proc.kill()
    served.proc.wait(10)
    until(lambda: not any(alive(pid) for pid in workers), timeout=30)
    assert "ended unexpectedly" in served.proc.communicate()[1]


def test_only_worker_0_runs_the_background_tasks(tmp_path: Path) -> None:
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'p.db'}", data_dir=tmp_path)
    with socket.socket() as sock:
        supervisor = Supervisor(config, sock, print, 4)
        assert supervisor.worker_config(0).send_mail is True
        assert [supervisor.worker_config(n).send_mail for n in (1, 2, 3)] == [False] * 3
        assert supervisor.worker_config(3).database_url == config.database_url


def test_workers_port_in_use_is_still_one_line(env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = portal_tui(
            env,
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--database",
            f"sqlite:///{tmp_path / 'p.db'}",
        )
    assert run.returncode == 2
    assert run.stderr == f"portal-tui: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_workers_refuse_an_in_memory_database_in_one_line(env: dict[str, str]) -> None:
    run = portal_tui(env, "serve", "--port", "0", "--workers", "2", "--database", "sqlite://")
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("portal-tui: --workers above 1 needs a database file")
    assert run.stderr.count("\n") == 1
