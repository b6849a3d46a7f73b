"""Firm data is private to the OS user who runs portal-tui: every file and folder the app and
the service create is 0600 / 0700 from the moment it exists. `restrict_umask` at start makes
that the default for everything (SQLite gives its -wal and -shm files the database file's own
mode); the explicit modes here hold it where portal-tui is used as a library, or where a
folder is made before the umask could apply."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

PRIVATE_UMASK = 0o077
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def restrict_umask() -> int:
    """Nothing this process (or a child it starts) creates is readable by anyone else;
    returns the umask it had."""
    return os.umask(PRIVATE_UMASK)


def private_folder(path: Path) -> Path:
    """`path` and each missing folder above it, made 0700; an existing folder is left as the
    owner set it (`loose` tells when to warn)."""
    missing: list[Path] = []
    folder = path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        try:
            made.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made meanwhile by another process: its mode is its own
            continue
        os.chmod(made, FOLDER_MODE)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path) -> None:
    """Make an existing file 0600 if others could read or write it."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, (mode & 0o700) | FILE_MODE)


def loose(path: Path) -> str | None:
    """A one-line warning if an existing folder lets other users in, else None."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"warning: {path} can be read by other users (mode {mode:04o}); "
        f"it holds the firm's data: chmod 700 {path}"
    )


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` at once (a reader sees the old file or the new one, never
    half of it), 0600 in a 0700 folder; OSError as the system said it."""
    private_folder(path.parent)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, FILE_MODE)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
