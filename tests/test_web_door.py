"""`portal-tui web`, run as a program on loopback: the staff app in a browser tab, never for
anyone without a staff user's token. Signed in, the page's websocket runs the app as that
staff user (its title bar read off the terminal stream); without the session cookie, or from
a page of another origin, the websocket is refused; wrong tokens are limited; tokens are kept
hashed, 0600, and only an Admin makes one for someone else (R1)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import httpx
import pytest

from portal_tui.domain import texts

from .test_cli import Home, home  # noqa: F401  (the fixture)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


def firm(home: Home) -> None:  # noqa: F811
    made = home.run(
        "init", "--firm", "Harbor & Vale LLP", "--login", "jdoe",
        "--name", "Jane Doe", "--email", "jane@hv.example",
    )  # fmt: skip
    assert made.status == 0, made.err
    added = home.run(
        "--staff-user", "jdoe", "staff", "add", "mkay",
        "--name", "Max Kay", "--email", "max@hv.example", "--role", "normal",
    )  # fmt: skip
    assert added.status == 0, added.err


def token_of(home: Home, *args: str) -> str:  # noqa: F811
    made = home.run(*args)
    assert made.status == 0, made.err
    return made.out.splitlines()[-1].strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Door:
    url: str
    process: subprocess.Popen[str]


@pytest.fixture
def door(home: Home) -> Iterator[Door]:  # noqa: F811
    firm(home)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portal_tui", "web", "--port", str(port)],
        env=home.env,
        cwd=home.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/", timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "portal-tui web did not start"
            time.sleep(0.1)
    try:
        yield Door(url, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sign_in(door: Door, token: str) -> httpx.Response:
    return httpx.post(door.url + "/sign-in", data={"token": token}, follow_redirects=False)


async def app_screen(door: Door, cookie: str | None, origin: str, want: str) -> str:
    """What the app draws over the page's websocket, as plain text, until `want` shows."""
    return await asyncio.wait_for(_drawn(door, cookie, origin, want), 90)


async def _drawn(door: Door, cookie: str | None, origin: str, want: str) -> str:
    headers = {"Origin": origin}
    if cookie:
        headers["Cookie"] = f"portal_tui_web={cookie}"
    ws_url = door.url.replace("http", "ws") + "/ws?width=120&height=30"
    seen = ""
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(ws_url, headers=headers) as ws,
    ):
        await ws.send_str(json.dumps(["resize", {"width": 120, "height": 30}]))
        while want not in seen:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                seen += ANSI.sub("", message.data.decode("utf-8", "replace"))
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
    return seen


def test_nobody_gets_the_app_without_a_token_and_a_token_opens_it_as_its_user(
    home: Home,  # noqa: F811
    door: Door,
) -> None:
    page = httpx.get(door.url + "/")
    assert page.status_code == 200 and "Staff token" in page.text
    assert "ws" not in re.findall(r"/(ws)\b", page.text)  # the app's page is not served
    assert httpx.get(door.url + "/download/anything").status_code == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        asyncio.run(app_screen(door, None, door.url, "never"))
    assert refused.value.status == 403

    wrong = sign_in(door, "not-a-token")
    assert wrong.status_code == 403 and "not one of this firm" in wrong.text

    token = token_of(home, "--staff-user", "mkay", "web", "token")
    signed = sign_in(door, token)
    assert signed.status_code == 303
    cookie = signed.cookies["portal_tui_web"]
    assert "httponly" in signed.headers["set-cookie"].lower()
    assert "samesite=strict" in signed.headers["set-cookie"].lower()
    index = httpx.get(door.url + "/", cookies={"portal_tui_web": cookie})
    assert index.status_code == 200 and "/ws" in index.text

    # A page of another site cannot open the app with the staff member's cookie.
    with pytest.raises(aiohttp.WSServerHandshakeError) as cross:
        asyncio.run(app_screen(door, cookie, "http://evil.example", "never"))
    assert cross.value.status == 403

    screen = asyncio.run(app_screen(door, cookie, door.url, "Max Kay"))
    assert "Harbor & Vale LLP" in screen and "Max Kay (Normal)" in screen


def test_wrong_tokens_are_limited(door: Door) -> None:
    for _ in range(10):
        assert sign_in(door, "guess").status_code == 403
    limited = sign_in(door, "guess")
    assert limited.status_code == 429 and "Too many tries" in limited.text


def test_tokens_are_kept_hashed_and_private_and_r1_decides_who_makes_them(
    home: Home,  # noqa: F811
) -> None:
    firm(home)
    token = token_of(home, "--staff-user", "jdoe", "web", "token")
    kept = home.data / "web-tokens.json"
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert token not in kept.read_text() and set(json.loads(kept.read_text())) == {"jdoe"}
    # An Admin for a colleague; a Normal user only for themselves.
    assert token_of(home, "--staff-user", "jdoe", "web", "token", "mkay")
    refused = home.run("--staff-user", "mkay", "web", "token", "jdoe")
    assert refused.status == 2 and texts.STAFF_ADMIN_ONLY in refused.err
    unknown = home.run("--staff-user", "jdoe", "web", "token", "nobody")
    assert unknown.status == 2 and "nobody" in unknown.err
    revoked = home.run("--staff-user", "jdoe", "web", "token", "mkay", "--revoke")
    assert revoked.status == 0 and "token revoked" in revoked.out
    assert set(json.loads(kept.read_text())) == {"jdoe"}


def test_a_port_taken_or_a_bad_public_url_is_one_line(home: Home) -> None:  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = home.run("web", "--port", str(port))
    assert busy.status == 2 and f"cannot listen on 127.0.0.1:{port}" in busy.err
    assert len(busy.err.strip().splitlines()) == 1
    bad = home.run("web", "--public-url", "ftp://x")
    assert bad.status == 2 and "bad --public-url" in bad.err


def _door_entries(home: Home) -> list[tuple[str, str, dict[str, object]]]:  # noqa: F811
    import sqlite3

    with sqlite3.connect(home.data / "firm.db") as db:
        rows = db.execute(
            "SELECT actor, action, after FROM audit_trail WHERE action LIKE 'door.%' ORDER BY id"
        ).fetchall()
    return [(actor, action, json.loads(after)) for actor, action, after in rows]


def test_sign_ins_and_refusals_go_into_the_firms_audit_trail(
    home: Home,  # noqa: F811
    door: Door,
) -> None:
    assert sign_in(door, "not-a-token").status_code == 403
    token = token_of(home, "--staff-user", "mkay", "web", "token")
    assert sign_in(door, token).status_code == 303
    disabled = home.run("--staff-user", "jdoe", "staff", "disable", "mkay")
    assert disabled.status == 0, disabled.err
    refused = sign_in(door, token)
    assert refused.status_code == 403 and "mkay is disabled" in refused.text
    entries = [(actor, action, entry["door"], entry.get("reason"))
               for actor, action, entry in _door_entries(home)]  # fmt: skip
    assert entries == [
        ("web door", "door.refused", "web", "wrong token"),
        ("mkay", "door.sign_in", "web", None),
        ("mkay", "door.refused", "web", "disabled staff user"),
    ]
    assert all(entry["address"] == "127.0.0.1" for _, _, entry in _door_entries(home))
