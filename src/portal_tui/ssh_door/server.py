"""The door itself: an asyncssh server that lets in public keys registered to staff users and
nothing else, and counts its connections.

- Public-key login only: password and keyboard-interactive are not offered. Whatever user
  name the client gives, the key decides who they are (`portal-tui staff key add`); keys are
  read from the firm database at every login, so one added or removed counts at once.
- A disabled staff user's key, and a connection over the limit, are refused right after the
  key is proven, with a line saying why (the client shows the disconnect reason).
- Each login and each refusal is an entry in the firm's audit trail: `door.sign_in`, or
  `door.refused` with the reason (an unknown key, a disabled staff user, over the limit).
- No forwarding of any kind (asyncssh refuses port forwarding unless asked; agent and X11
  forwarding are off), one session per connection, and that session runs the app only
  (session.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from portal_tui.domain import texts
from portal_tui.domain.records import StaffRow
from portal_tui.repository import Repository

from .session import AppSession

log = logging.getLogger("portal-tui.ssh")

DOOR = "ssh"
LOGIN_TIMEOUT_S = 60
KEEPALIVE_S = 60  # a client gone without a word (a laptop closed) is noticed in 3 minutes
KEEPALIVE_COUNT = 3
_NO_AUTH = asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE


@dataclass
class DoorState:
    """What every connection of one door shares."""

    repo: Repository
    app_env: Mapping[str, str]
    max_connections: int
    idle_timeout_s: float
    open: int = 0  # connections let in, whose app has not ended
    connections: set[DoorConnection] = field(default_factory=set)

    async def record(
        self, login: str | None, refused: str | None, address: str, **detail: Any
    ) -> None:
        try:
            await asyncio.to_thread(
                self.repo.record_door, DOOR, login=login, refused=refused, address=address, **detail
            )
        except Exception as exc:  # the door goes on; what it could not write is logged
            log.error("could not write the audit trail: %s", exc)


class DoorConnection(asyncssh.SSHServer):
    def __init__(self, state: DoorState) -> None:
        self.state = state
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "unknown"
        self.staff: StaffRow | None = None
        self.fingerprint = ""
        self.tried: dict[str, StaffRow | None] = {}
        self.let_in = False
        self.counted = False
        self.recorded = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.session: AppSession | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "unknown"
        self.state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        if not self.let_in and not self.recorded and self.tried:
            # One entry for the connection, not one a key offered.
            shown = sorted(self.tried)[:10]
            known = {row.login for row in self.tried.values() if row is not None}
            reason = texts.DOOR_NOT_PROVEN if known else texts.DOOR_UNKNOWN_KEY
            login = next(iter(known)) if len(known) == 1 else None
            log.warning("refused %s: %s (%s)", self.address, reason, ", ".join(shown))
            self._task(self.state.record(login, reason, self.address, fingerprints=shown))
        if self.session is None:
            self._release()

    # Authentication ---------------------------------------------------------------------------

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        fingerprint = key.get_fingerprint("sha256")
        if fingerprint not in self.tried and len(self.tried) >= 20:
            return False
        # Read at each offer (the one asking and the one signed): a key removed or a user
        # disabled a moment ago counts at once.
        owner = await asyncio.to_thread(self.state.repo.key_owner, fingerprint)
        self.tried[fingerprint] = owner
        if owner is None:
            return False
        # A disabled user's key is let through here, and refused once it is proven
        # (auth_completed): so the holder of the key, and only they, is told why.
        self.staff = owner
        self.fingerprint = fingerprint
        return True

    def auth_completed(self) -> None:
        # Not a coroutine: it must decide before the client's first channel is looked at.
        assert self.conn is not None and self.staff is not None
        login = self.staff.login
        if not self.staff.active:
            message = texts.SSH_DOOR_DISABLED.format(login=login)
            self._refuse(texts.DOOR_DISABLED, message, _NO_AUTH)
            return
        if self.state.open >= self.state.max_connections:
            limit = self.state.max_connections
            message = texts.SSH_DOOR_FULL.format(limit=limit)
            self._refuse(texts.DOOR_FULL, message, asyncssh.DISC_TOO_MANY_CONNECTIONS, limit=limit)
            return
        self.state.open += 1
        self.counted = True
        self.let_in = True
        # A place is for an app: a connection that asks for none (`ssh -N`) gives it back.
        asyncio.get_running_loop().call_later(LOGIN_TIMEOUT_S, self._no_app)
        log.info("%s signed in from %s (%s)", login, self.address, self.fingerprint)
        self._task(self.state.record(login, None, self.address, fingerprint=self.fingerprint))

    def _refuse(self, reason: str, message: str, code: int, **detail: Any) -> None:
        assert self.conn is not None and self.staff is not None
        login = self.staff.login
        log.warning("refused %s from %s: %s", login, self.address, reason)
        self.recorded = True
        self.conn.disconnect(code, message)
        fingerprint = self.fingerprint
        self._task(
            self.state.record(login, reason, self.address, fingerprint=fingerprint, **detail)
        )

    def _task(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Sessions ---------------------------------------------------------------------------------

    def session_requested(self) -> AppSession | bool:
        if not self.let_in or self.staff is None:
            return False
        if self.session is not None:
            log.info("%s asked for a second session on one connection: refused", self.staff.login)
            return False
        self.session = AppSession(
            self.staff.login, self.state.app_env, self.state.idle_timeout_s, self._release
        )
        return self.session

    def _no_app(self) -> None:
        if self.conn is not None and (self.session is None or not self.session.started):
            log.info(
                "%s asked for no app in %ss: closed",
                self.staff and self.staff.login,
                LOGIN_TIMEOUT_S,
            )
            self.conn.close()

    def _release(self) -> None:
        """The connection's app has ended (or it never had one): its place is free, and a
        connection whose app ended is closed."""
        if self.counted:
            self.counted = False
            self.state.open -= 1
        if self.session is not None and self.conn is not None:
            self.conn.close()


async def serve(
    state: DoorState, host: str, port: int, host_key: asyncssh.SSHKey
) -> asyncssh.SSHAcceptor:
    return await asyncssh.create_server(
        lambda: DoorConnection(state),
        host,
        port,
        server_host_keys=[host_key],
        encoding=None,  # the app's bytes as they are, both ways
        line_editor=False,
        password_auth=False,
        kbdint_auth=False,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_pty=True,
        login_timeout=LOGIN_TIMEOUT_S,
        keepalive_interval=KEEPALIVE_S,
        keepalive_count_max=KEEPALIVE_COUNT,
        server_version="portal-tui",
    )
