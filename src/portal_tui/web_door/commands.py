"""`portal-tui web` (serve the staff app in a browser) and `portal-tui web token LOGIN`."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import TextIO
from urllib.parse import urlsplit

from portal_tui.config import CONFIG_ENV, DATA_DIR_ENV, ENV_PREFIX, Settings

WEB_HOST = "127.0.0.1"
WEB_PORT = 8566
EXIT_OK = 0
EXIT_USER_ERROR = 2


def add_web_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    web = commands.add_parser(
        "web",
        parents=[common],
        help="serve the staff app in a browser tab (loopback unless --host), behind staff tokens",
        description="Serve the staff app to a browser: each staff member signs in with their "
        "own token (portal-tui web token LOGIN) and gets the app as themselves.",
    )
    web.add_argument("--host", default=WEB_HOST, help=f"address to listen on ({WEB_HOST})")
    web.add_argument("--port", type=int, default=WEB_PORT, help=f"port ({WEB_PORT})")
    web.add_argument(
        "--public-url",
        metavar="URL",
        help="the address staff open, if not http://HOST:PORT (behind an HTTPS proxy, say)",
    )
    sub = web.add_subparsers(dest="web_command", metavar="token")
    token = sub.add_parser(
        "token",
        parents=[common],
        help="make (or --revoke) a staff user's token for the browser door; shown once",
    )
    token.add_argument("login", metavar="LOGIN", nargs="?", help="staff user (default: you)")
    token.add_argument("--revoke", action="store_true", help="remove the token instead")


def run_web_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from .tokens import WebDoorError

    try:
        if args.web_command == "token":
            return _token(args, settings, out)
        return _serve(args, settings)
    except WebDoorError as exc:
        print(f"portal-tui: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


def _token(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from portal_tui.domain import texts
    from portal_tui.domain.decision import Invalid, Refused
    from portal_tui.domain.states import StaffRole
    from portal_tui.repository import Repository

    from . import tokens

    repo = Repository.open(settings.database_url, settings.staff_user)
    try:
        actor = repo.actor  # an active staff user of this firm, or one line saying how
        login = (args.login or actor.login).strip()
        # R1: anyone for themselves (the OS login proves who they are); an Admin for anyone.
        if login != actor.login and actor.role is not StaffRole.ADMIN:
            raise Refused("R1", texts.STAFF_ADMIN_ONLY)
        user = repo.staff_user(login)  # Invalid, in its own words, for an unknown login
        if args.revoke:
            had = tokens.revoke(settings.data_dir, user.login)
            print(f"{user.login}: {'token revoked' if had else 'had no token'}.", file=out)
            return EXIT_OK
        if not user.active:
            raise Invalid(f"{user.login} is disabled: enable them first (portal-tui staff enable).")
        token = tokens.issue(settings.data_dir, user.login)
    finally:
        repo.close()
    print(f"Browser door token for {user.login} (shown once; a new one replaces it):", file=out)
    print(token, file=out)
    return EXIT_OK


def _public_url(args: argparse.Namespace) -> str:
    from .tokens import WebDoorError

    if args.public_url is None:
        host = f"[{args.host}]" if ":" in args.host else args.host
        return f"http://{host}:{args.port}"
    parts = urlsplit(args.public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise WebDoorError(f"bad --public-url {args.public_url!r}: use http(s)://host[:port]")
    return str(args.public_url).rstrip("/")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from .server import StaffWebDoor
    from .tokens import WebDoorError

    if not 1 <= args.port <= 65535:
        raise WebDoorError(f"bad --port {args.port}: use 1 to 65535")
    public_url = _public_url(args)
    # Taken now, with one clear line, rather than as a traceback from deep in aiohttp.
    try:
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:
        raise WebDoorError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
        ) from None
    # Each app process starts with these settings, as this command was given them.
    os.environ[CONFIG_ENV] = str(settings.config_file)
    os.environ[DATA_DIR_ENV] = str(settings.data_dir)
    for key in ("database_url", "portal_url", "ascii"):
        if settings.sources.get(key, "").startswith("flag"):
            value = getattr(settings, key)
            os.environ[ENV_PREFIX + key.upper()] = str(value).lower() if key == "ascii" else value
    from portal_tui.repository import Repository

    repo = Repository.open(settings.database_url)  # the trail of sign-ins and refusals
    try:
        door = StaffWebDoor(
            data_dir=settings.data_dir,
            repo=repo,
            host=args.host,
            port=args.port,
            public_url=public_url,
            title="portal-tui",
        )
        door.serve()
    finally:
        repo.close()
    return EXIT_OK
