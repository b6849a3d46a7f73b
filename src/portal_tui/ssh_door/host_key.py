"""The door's host key: made at its first start (ed25519) and kept, 0600 in a 0700 folder of
the data folder, so staff's `ssh` trusts the same server every time. Two first starts at once
take turns (a lock file beside it); a file there that is not a key stops the door with one
line, rather than being replaced (every client would be told the server changed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

from portal_tui.private import private_file, private_folder, write_private

if TYPE_CHECKING:
    import asyncssh

FOLDER_NAME = "ssh-door"
FILE_NAME = "host_key"


class SshDoorError(Exception):
    """What stops the SSH door, in one line for the user."""


def host_key_file(data_dir: Path) -> Path:
    return data_dir / FOLDER_NAME / FILE_NAME


def load_or_make(data_dir: Path) -> asyncssh.SSHKey:
    import asyncssh

    path = host_key_file(data_dir)
    try:
        private_folder(path.parent)
        with FileLock(str(path) + ".lock", timeout=10):
            if not path.exists():
                key = asyncssh.generate_private_key("ssh-ed25519", comment="portal-tui ssh door")
                write_private(path, key.export_private_key().decode("ascii"))
                return key
            private_file(path)
            text = path.read_bytes()
    except OSError as exc:
        raise SshDoorError(f"{path}: cannot use it: {exc.strerror or exc}") from None
    try:
        return asyncssh.import_private_key(text)
    except (asyncssh.KeyImportError, ValueError):
        raise SshDoorError(
            f"{path}: not a host key portal-tui wrote. Move it away and start again: a new one "
            "is made, and each staff member's ssh will ask them to trust it."
        ) from None
