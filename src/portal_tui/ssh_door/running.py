"""The door's process: the firm database opened (as the system, which writes only the audit
entries), the host key, the server on its socket until SIGTERM or Ctrl+C; then every app
still running is hung up, as sshd does when it stops."""

from __future__ import annotations

import asyncio
import logging
import signal
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

from portal_tui.config import Settings

if TYPE_CHECKING:
    import asyncssh

    from .server import DoorState

EXIT_OK = 0
STOP_GRACE_S = 10.0


def run_door(
    settings: Settings,
    *,
    host: str,
    port: int,
    idle_timeout_s: float,
    max_connections: int,
    app_env: Mapping[str, str],
) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography's word on DSA, which the door never uses
        import asyncssh  # noqa: F401  (loaded here, with the warning hushed)

    from portal_tui.repository import Repository

    from . import host_key
    from .server import DoorState

    key = host_key.load_or_make(settings.data_dir)
    repo = Repository.open(settings.database_url)
    logging.basicConfig(level=logging.INFO, format="portal-tui ssh-serve: %(message)s")
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    state = DoorState(repo, app_env, max_connections, idle_timeout_s)
    try:
        asyncio.run(_main(state, host, port, key))
    finally:
        repo.close()
    return EXIT_OK


async def _main(state: DoorState, host: str, port: int, key: asyncssh.SSHKey) -> None:
    from .server import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    acceptor = await serve(state, host, port, key)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"portal-tui ssh-serve: listening on {shown}:{port}, host key "
        f"{key.get_fingerprint('sha256')}. Staff connect with `ssh -p {port} {shown}`; "
        "register their keys with `portal-tui staff key add LOGIN FILE`. Ctrl+C stops.",
        flush=True,
    )
    await stop.wait()
    acceptor.close()
    for connection in list(state.connections):
        if connection.conn is not None:
            connection.conn.close()  # each app is hung up (session.py)
    deadline = loop.time() + STOP_GRACE_S
    while state.open and loop.time() < deadline:
        await asyncio.sleep(0.1)
    print("portal-tui ssh-serve: stopped.", flush=True)
