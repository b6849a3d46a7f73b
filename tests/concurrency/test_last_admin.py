"""R1 with several staff at once: two Admins, each in a program of their own, disable each
other at the same moment — on SQLite and PostgreSQL, exactly one succeeds and the firm keeps
an active Admin (each change counts the active Admins with every one of them locked)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from portal_tui.domain import StaffRole
from portal_tui.repository import Repository

CHILD = textwrap.dedent(
    """
    import json, pathlib, sys, time
    from portal_tui.domain.decision import Refused
    from portal_tui.repository import Repository
    url, me, other, folder = sys.argv[1], sys.argv[2], sys.argv[3], pathlib.Path(sys.argv[4])
    repo = Repository.open(url, me)
    _ = repo.actor  # both apps are open, as the same firm's two Admins
    (folder / f"{me}.ready").touch()
    while not (folder / "go").exists():
        time.sleep(0.001)
    try:
        repo.set_staff_active(other, False)
        print(json.dumps("done"))
    except Refused as refused:
        print(json.dumps(refused.message))
    """
)


def test_two_admins_disabling_each_other_at_once_leave_one_admin(
    migrated_url: str, tmp_path: Path
) -> None:
    setup = Repository.open(migrated_url)
    try:
        setup.init_firm("Harbor & Vale LLP", "ann", "Ann", "ann@hv.example")
        Repository(setup.db, "ann").add_staff("bob", "Bob", "bob@hv.example", StaffRole.ADMIN)
        for round_ in range(3):
            folder = tmp_path / f"round-{round_}"
            folder.mkdir()
            children = [
                subprocess.Popen(
                    [sys.executable, "-c", CHILD, migrated_url, me, other, str(folder)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for me, other in (("ann", "bob"), ("bob", "ann"))
            ]
            deadline = time.monotonic() + 60
            while not all((folder / f"{who}.ready").exists() for who in ("ann", "bob")):
                assert time.monotonic() < deadline, "the two programs did not start"
                assert all(c.poll() is None for c in children), "a program ended early"
                time.sleep(0.01)
            (folder / "go").touch()
            said = []
            for child in children:
                out, err = child.communicate(timeout=60)
                assert child.returncode == 0, err
                said.append(json.loads(out))
            active = [u.login for u in setup.list_staff() if u.active]
            assert len(active) == 1, (round_, said)
            assert said.count("done") == 1, said  # the other one was refused, in one line
            # Whoever was disabled, the other enables them for the next round.
            Repository(setup.db, active[0]).set_staff_active(
                "bob" if active[0] == "ann" else "ann", True
            )
    finally:
        setup.close()
