"""`portal-tui token` and `portal-tui serve`, run as the user runs them: real processes, a real
uvicorn on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from portal_tui.service.app import create_app
from portal_tui.service.config import ServiceConfig

from .conftest import firm_body, matter_body, publish_body

STARTUP_TIMEOUT = 30


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Nothing of the developer's own settings: config and data folder under tmp_path."""
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_token_create_prints_only_the_token_which_then_works_until_revoked(
    env: dict[str, str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    made = portal_tui(env, "token", "create", "--staff", "x", "--database", url)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert made.stdout == f"{token}\n" and token.startswith("ptk_")

    config = ServiceConfig(database_url=url, data_dir=tmp_path / "d", send_mail=False, prune=False)
    with TestClient(create_app(config)) as client:
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/changes", headers=auth).status_code == 200

        revoked = portal_tui(env, "token", "revoke", "--staff", "x", "--database", url)
        assert revoked.returncode == 0, revoked.stderr
        assert client.get("/api/v1/changes", headers=auth).status_code == 401

    again = portal_tui(env, "token", "revoke", "--token", token, "--database", url)
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1 and "nothing was revoked" in again.stderr


def test_token_uses_portal_db_in_the_data_folder_by_default(env: dict[str, str]) -> None:
    made = portal_tui(env, "token", "create", "--staff", "x")
    assert made.returncode == 0, made.stderr
    assert (Path(env["PORTAL_TUI_DATA_DIR"]) / "portal.db").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ["token", "create", "--staff", " "],
        ["token", "create", "--staff", "x", "--database", "nosuchdb://x"],
        ["serve", "--base-url", "ftp://example.com"],
        ["serve", "--host", "host.invalid"],
        ["serve", "--database", "nosuchdb://x", "--port", "0"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(env: dict[str, str], args: list[str]) -> None:
    run = portal_tui(env, *args)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("portal-tui: ") and run.stderr.count("\n") == 1


def test_serve_refuses_a_port_in_use(env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = portal_tui(
            env, "serve", "--port", str(port), "--database", f"sqlite:///{tmp_path / 'p.db'}"
        )
    assert run.returncode == 2
    assert run.stderr == f"portal-tui: cannot listen on 127.0.0.1:{port}: Address already in use\n"


@pytest.fixture
def served(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    token = portal_tui(
        env, "token", "create", "--staff", "worker", "--database", url
    ).stdout.strip()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal_tui", "serve", "--port", str(port), "--database", url],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not answer /healthz"
            time.sleep(0.1)
        yield proc, base, token
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_serve_runs_the_api_for_real_and_stops_cleanly(
    served: tuple[subprocess.Popen[str], str, str],
) -> None:
    proc, base, token = served
    with httpx.Client(base_url=f"{base}/api/v1", timeout=10) as http:

        def put(path: str, body: object) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
            return http.put(path, json=body, headers=headers)

        assert put("/firm", firm_body()).status_code == 200
        assert put("/matters/7", matter_body()).status_code == 200
        published = put("/items/invoice/11", publish_body())
        assert published.status_code == 200, published.text
        assert published.headers["X-Portal-API-Version"] == "1"
        state = http.get("/items/invoice/11", headers={"Authorization": f"Bearer {token}"})
        assert state.json()["published"] is True
        assert http.get("/items/invoice/11").status_code == 401

    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out.splitlines()[0].startswith(f"Portal service listening on {base}")
    assert "Traceback" not in err
