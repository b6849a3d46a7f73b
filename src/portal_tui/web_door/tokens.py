"""The browser door's credentials: one token per staff user, made by `portal-tui web token`.

Only each token's SHA-256 is kept, in web-tokens.json in the data folder (0600): a copy of the
file lets nobody in. A new token for a user replaces the old one; revoking removes it. The
door reads the file at every sign-in, so a new or revoked token counts at once, with no
restart. Two commands changing the file at once take turns (a lock file beside it)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from pathlib import Path

from filelock import FileLock

from portal_tui.private import private_folder, write_private

FILE_NAME = "web-tokens.json"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class WebDoorError(Exception):
    """What stops the browser door, in one line for the user."""


def token_file(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _read(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise WebDoorError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _HEX64.fullmatch(v) for k, v in data.items()
    ):
        raise WebDoorError(
            f"{path}: not a token file portal-tui wrote; remove it and make new tokens "
            "with `portal-tui web token LOGIN`"
        )
    return data


def _change(data_dir: Path, login: str, digest: str | None) -> bool:
    path = token_file(data_dir)
    private_folder(data_dir)
    try:
        with FileLock(str(path) + ".lock", timeout=10):
            tokens = _read(path)
            had = login in tokens
            if digest is None:
                tokens.pop(login, None)
            else:
                tokens[login] = digest
            write_private(path, json.dumps(tokens, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise WebDoorError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return had


def issue(data_dir: Path, login: str) -> str:
    """A new token for `login` (replacing any it had); shown once, never kept."""
    token = secrets.token_urlsafe(32)
    _change(data_dir, login, _digest(token))
    return token


def revoke(data_dir: Path, login: str) -> bool:
    """Whether `login` had a token (it has none now)."""
    return _change(data_dir, login, None)


def login_for(data_dir: Path, token: str) -> str | None:
    """The staff login this token is for, or None."""
    if not token or len(token) > 200:
        return None
    given = _digest(token)
    found: str | None = None
    # Every entry compared, in constant time: how long a wrong token takes tells nothing.
    for login, stored in _read(token_file(data_dir)).items():
        if hmac.compare_digest(stored, given):
            found = login
    return found
