"""Private by default: every file and folder portal-tui and its portal create — the firm
database and its -wal/-shm, the data, portal, mail, linked-documents and backup folders, the
emails, the portal's database — is 0600 / 0700 from the moment it exists, whatever umask it
was started with; an existing data folder that lets others in gets a one-line warning."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from .delivery.support import clean_env, portal_tui


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return portal_tui(env, *args, timeout=300, umask=0o022)  # as a usual login shell has it


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.lstat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def test_everything_created_is_private_to_its_owner(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    data = Path(env["PORTAL_TUI_DATA_DIR"])
    assert not data.exists()
    seeded = _run(env, "seed", "--demo")
    assert seeded.returncode == 0, seeded.stderr
    synced = _run(env, "sync")  # the embedded portal: its database, its emails
    assert synced.returncode == 0, synced.stderr
    backed = _run(env, "backup")
    assert backed.returncode == 0, backed.stderr

    modes = _modes(data)
    names = "\n".join(sorted(modes))
    for expected in ("firm.db", "firm.db-wal", "backups", "portal.db", "linked-docs"):
        assert expected in modes, names
    loose = {
        name: f"{mode:04o}"
        for name, mode in modes.items()
        if mode != (0o700 if (data / name).is_dir() else 0o600)
    }
    assert loose == {}, f"not private: {loose}"
    assert "warning" not in seeded.stderr + synced.stderr + backed.stderr


def test_a_data_folder_others_can_read_is_warned_about_once(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    data = Path(env["PORTAL_TUI_DATA_DIR"])
    data.mkdir()
    data.chmod(0o755)
    shown = _run(env, "config")
    assert shown.returncode == 0, shown.stderr
    warnings = [line for line in shown.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"portal-tui: warning: {data} can be read by other users (mode 0755); "
        f"it holds the firm's data: chmod 700 {data}"
    ]
    assert stat.S_IMODE(data.stat().st_mode) == 0o755  # the owner's choice is left alone


def test_emails_written_to_a_folder_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """The portal's mail folder, made by the service itself (also when embedded in a
    program that did not set the umask)."""
    from email.message import EmailMessage

    from portal_tui.service.mail.transport import EmlTransport

    folder = tmp_path / "portal" / "mail"
    msg = EmailMessage()
    msg["Message-ID"] = "<one@portal.test>"
    msg["To"], msg["From"], msg["Subject"] = "ann@example.test", "portal@firm.test", "Hello"
    msg.set_content("Hello")
    previous = os.umask(0o022)
    try:
        EmlTransport(folder).send(msg)
    finally:
        os.umask(previous)
    modes = _modes(tmp_path / "portal")
    assert {name: f"{mode:04o}" for name, mode in modes.items()} == {
        ".": "0700",
        "mail": "0700",
        **{name: "0600" for name in modes if name.endswith(".eml")},
    }
    assert any(name.endswith(".eml") for name in modes)
