"""Four processes sharing and unsharing on one SQLite file at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from portal_tui.repository import Repository
from portal_tui.store.models import AuditEntry, OutboxEntry, ShareMark

WORKER = textwrap.dedent(
    """
    import json, sys
    from portal_tui.domain import ItemKind, Refused
    from portal_tui.repository import Repository
    from portal_tui.database import Database

    url, me, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    notes = json.loads(sys.argv[4])
    repo = Repository(Database(url), "admin")
    done = refused = 0
    for i in range(rounds):
        # Every worker touches every note, so they contend for the same rows.
        note = notes[(i + me) % len(notes)]
        try:
            if repo.share_state(ItemKind.NOTE, note).wanted:
                repo.unshare(ItemKind.NOTE, note)
            else:
                repo.share(ItemKind.NOTE, note)
            done += 1
        except Refused:
            refused += 1  # another worker flipped it between our read and our write
    print(json.dumps({"done": done, "refused": refused}))
    """
)


def test_four_processes_share_and_unshare_on_one_sqlite_file(tmp_path: Path) -> None:
    import json

    url = f"sqlite:///{tmp_path / 'firm.db'}"
    repo = Repository.open(url)
    repo.setup_firm("Busy Firm")
    from portal_tui.domain import StaffRole

    repo.add_staff("admin", "Admin", "admin@firm.test", StaffRole.ADMIN)
    client = repo.add_client("Ada Byrne")
    matter = repo.add_matter(client, number="1", name="Busy matter")
    repo.set_matter_portal(matter, True)
    notes = [repo.add_note(matter, subject=f"N{i}", body="") for i in range(6)]
    with repo.db.read() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        outbox_before = s.scalar(select(func.count()).select_from(OutboxEntry)) or 0

    rounds = 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(me), str(rounds), json.dumps(notes)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in range(4)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "database is locked" not in err
        results.append(json.loads(out))
    done = sum(r["done"] for r in results)
    assert done + sum(r["refused"] for r in results) == 4 * rounds
    assert done > 0

    with repo.db.read() as s:
        audit = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        outbox = list(s.scalars(select(OutboxEntry).where(OutboxEntry.id > outbox_before)))
        marks = {m.item_id: m for m in s.scalars(select(ShareMark))}
    # Every successful command left exactly one audit entry and one outbox row.
    assert audit - audit_before == done
    assert len(outbox) == done
    # Each note's final state is what its last outbox row asked for, at its last version.
    for note in notes:
        rows = [r for r in outbox if r.item_id == note]
        if not rows:
            continue
        mark = marks[note]
        assert mark.version == len(rows) == rows[-1].version
        assert mark.wanted == (rows[-1].op.value == "publish")
        assert [r.version for r in rows] == list(range(1, len(rows) + 1))
    repo.close()
