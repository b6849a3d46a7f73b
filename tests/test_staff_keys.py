"""`portal-tui staff key add|list|remove`: the SSH keys of the built-in SSH door, kept in the
firm database. Admins only (R1), audited like every change to the staff list; a bad key file
is one line and changes nothing; a key is one staff user's only."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pytest

from portal_tui.domain import texts

from .test_cli import Home, home  # noqa: F401  (the fixture)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # cryptography's word on DSA
    import asyncssh


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


def public_key(folder: Path, name: str) -> tuple[Path, str]:
    """A new ed25519 key's KEY.pub file, and its fingerprint."""
    key = asyncssh.generate_private_key("ssh-ed25519", comment=f"{name}'s laptop")
    key.write_private_key(folder / name)
    key.write_public_key(folder / f"{name}.pub")
    return folder / f"{name}.pub", key.get_fingerprint("sha256")


def audit(home: Home, action: str) -> list[tuple[str, str]]:  # noqa: F811
    with sqlite3.connect(home.data / "firm.db") as db:
        rows = db.execute(
            "SELECT actor, after FROM audit_trail WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    return [(actor, after) for actor, after in rows]


def keys_table(home: Home) -> list[tuple[object, ...]]:  # noqa: F811
    with sqlite3.connect(home.data / "firm.db") as db:
        return db.execute("SELECT staff_id, fingerprint FROM staff_keys ORDER BY id").fetchall()


def test_an_admin_adds_lists_and_removes_a_staff_users_key(home: Home) -> None:  # noqa: F811
    firm(home)
    path, fingerprint = public_key(home.root, "max")
    added = home.run("--staff-user", "jdoe", "staff", "key", "add", "mkay", str(path))
    assert added.status == 0, added.err
    assert f"Added {fingerprint} (ssh-ed25519) for mkay." in added.out
    again = home.run("--staff-user", "jdoe", "staff", "key", "add", "mkay", str(path))
    assert again.status == 0 and "nothing changed" in again.out
    assert len(keys_table(home)) == 1

    listed = home.run("--staff-user", "mkay", "staff", "key", "list")  # anyone, as staff list
    assert listed.status == 0, listed.err
    (line,) = listed.out.splitlines()
    assert line.split()[:3] == ["mkay", fingerprint, "ssh-ed25519"]
    assert line.endswith("max's laptop")
    mine = home.run("--staff-user", "jdoe", "staff", "key", "list", "jdoe")
    assert mine.status == 0 and "jdoe has no SSH key" in mine.out

    # Audited as the other staff changes are: who, whose key, which.
    ((actor, after),) = audit(home, "staff.key_add")
    assert actor == "jdoe" and fingerprint in after and "mkay" in after

    bare = fingerprint.removeprefix("SHA256:")  # as typed, without its prefix
    removed = home.run("--staff-user", "jdoe", "staff", "key", "remove", "mkay", bare)
    assert removed.status == 0, removed.err
    assert f"Removed {fingerprint} of mkay." in removed.out
    assert keys_table(home) == []
    assert [actor for actor, _ in audit(home, "staff.key_remove")] == ["jdoe"]
    gone = home.run("--staff-user", "jdoe", "staff", "key", "remove", "mkay", fingerprint)
    assert gone.status == 2 and "mkay has no key" in gone.err


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
         "is a private key"),
        ("", "holds no public key"),
        ("ssh-ed25519 AAAA!!notbase64 me\n", "not base64"),
        ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB me\n", "its kind and its data disagree"),
        ("ssh-dss AAAAB3NzaC1kc3M= old\n", "is not a kind of SSH key"),
        ('command="x" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me\n', "options before the key"),
    ],
)  # fmt: skip
def test_a_bad_key_file_is_one_line_and_changes_nothing(
    home: Home,  # noqa: F811
    content: str,
    said: str,
) -> None:
    firm(home)
    bad = home.root / "bad.pub"
    bad.write_text(content)
    before = len(audit(home, "staff.key_add"))
    run = home.run("--staff-user", "jdoe", "staff", "key", "add", "mkay", str(bad))
    assert run.status == 2 and said in run.err
    assert len(run.err.strip().splitlines()) == 1, run.err
    assert keys_table(home) == [] and len(audit(home, "staff.key_add")) == before
    missing = home.run("--staff-user", "jdoe", "staff", "key", "add", "mkay", "/nowhere.pub")
    assert missing.status == 2 and "cannot read /nowhere.pub" in missing.err


def test_a_key_registered_to_another_user_is_refused(home: Home) -> None:  # noqa: F811
    firm(home)
    path, fingerprint = public_key(home.root, "shared")
    assert home.run("--staff-user", "jdoe", "staff", "key", "add", "mkay", str(path)).status == 0
    theirs = home.run("--staff-user", "jdoe", "staff", "key", "add", "jdoe", str(path))
    assert theirs.status == 2
    assert "already registered to mkay" in theirs.err and fingerprint in theirs.err
    assert len(keys_table(home)) == 1


def test_r1_only_an_admin_adds_or_removes_keys(home: Home) -> None:  # noqa: F811
    firm(home)
    path, fingerprint = public_key(home.root, "max")
    refused = home.run("--staff-user", "mkay", "staff", "key", "add", "mkay", str(path))
    assert refused.status == 2 and texts.STAFF_ADMIN_ONLY in refused.err
    assert keys_table(home) == []
    assert home.run("--staff-user", "jdoe", "staff", "key", "add", "mkay", str(path)).status == 0
    remove = home.run("--staff-user", "mkay", "staff", "key", "remove", "mkay", fingerprint)
    assert remove.status == 2 and texts.STAFF_ADMIN_ONLY in remove.err
    assert len(keys_table(home)) == 1
    unknown = home.run("--staff-user", "jdoe", "staff", "key", "add", "nobody", str(path))
    assert unknown.status == 2 and "nobody" in unknown.err
