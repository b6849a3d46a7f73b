"""`portal-tui ssh-serve`: the built-in SSH door, on loopback unless --host says otherwise.
Only argparse here: the CLI imports this module at every start, and asyncssh is loaded only
once the command runs."""

from __future__ import annotations

import argparse
import os
import re
import sys

from portal_tui.config import CONFIG_ENV, DATA_DIR_ENV, ENV_PREFIX, Settings

SSH_HOST = "127.0.0.1"
SSH_PORT = 2222
IDLE_TIMEOUT = "30m"
MAX_CONNECTIONS = 10
EXIT_OK = 0
EXIT_USER_ERROR = 2
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smh]?)")
_UNIT_S = {"": 60.0, "m": 60.0, "s": 1.0, "h": 3600.0}


def _duration(text: str) -> float:
    """Seconds of "30m", "90s", "1h" or "30" (minutes); "0" for never."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise argparse.ArgumentTypeError(f"expected a time such as 30m, 90s or 1h, got {text!r}")
    return float(found.group(1)) * _UNIT_S[found.group(2)]


def _count(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return number


def add_ssh_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    serve = commands.add_parser(
        "ssh-serve",
        parents=[common],
        help="a built-in SSH door to the staff app (loopback unless --host), staff keys only",
        description="Serve the staff app over SSH without an OpenSSH server: each public key "
        "registered with `portal-tui staff key add LOGIN FILE` opens the app as its staff "
        "user, in a terminal of its own. No passwords, no shell, no forwarding.",
    )
    serve.add_argument("--host", default=SSH_HOST, help=f"address to listen on ({SSH_HOST})")
    serve.add_argument("--port", type=int, default=SSH_PORT, help=f"port ({SSH_PORT})")
    serve.add_argument(
        "--idle-timeout",
        type=_duration,
        default=_duration(IDLE_TIMEOUT),
        metavar="TIME",
        help=f"close a connection with no key pressed for this long ({IDLE_TIMEOUT}; "
        "90s, 1h; 0: never)",
    )
    serve.add_argument(
        "--max-connections",
        type=_count,
        default=MAX_CONNECTIONS,
        metavar="N",
        help=f"connections open at once; one more is refused with a message ({MAX_CONNECTIONS})",
    )


def run_ssh_command(args: argparse.Namespace, settings: Settings) -> int:
    from .host_key import SshDoorError

    try:
        return _serve(args, settings)
    except SshDoorError as exc:
        print(f"portal-tui: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR


def _app_env(settings: Settings) -> dict[str, str]:
    """Each app process starts with the settings this command was given."""
    env = dict(os.environ)
    env[CONFIG_ENV] = str(settings.config_file)
    env[DATA_DIR_ENV] = str(settings.data_dir)
    for key in ("database_url", "portal_url", "ascii"):
        if settings.sources.get(key, "").startswith("flag"):
            value = getattr(settings, key)
            env[ENV_PREFIX + key.upper()] = str(value).lower() if key == "ascii" else value
    return env


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import socket

    from .host_key import SshDoorError

    if not 1 <= args.port <= 65535:
        raise SshDoorError(f"bad --port {args.port}: use 1 to 65535")
    # Taken now, with one clear line, rather than as a traceback from deep in asyncio.
    try:
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:
        raise SshDoorError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
        ) from None
    from .running import run_door

    return run_door(
        settings,
        host=args.host,
        port=args.port,
        idle_timeout_s=args.idle_timeout,
        max_connections=args.max_connections,
        app_env=_app_env(settings),
    )
