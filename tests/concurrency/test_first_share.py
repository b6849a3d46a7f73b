"""Two staff members, each in an OS process of their own, share the same never-shared item at
the same moment (both released from a start line together), item after item: a first share
never inserts a second share mark. Either both succeed (one after the other: the second is a
new version) or the second is told clearly why not (already shared, or the domain's retryable
Conflict/Unavailable) — never a driver's IntegrityError. Every item ends with one mark, its
versions all different, and once delivered the portal holds what the marks say. On SQLite
and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from portal_tui.domain import ItemKind, texts

from ..delivery.support import Firm, Service, add_notes, portal_tui
from .support import (
    add_staff,
    as_args,
    assert_portal_holds_the_marks,
    doubled_versions,
    finish,
    firm_env,
    item_versions,
    share_marks,
    start_child,
)

ITEMS = 12  # rounds: each one a race of its own
SHARED = texts.ITEM_SHARED.format(label=ItemKind.NOTE.label)
# What the one who comes second may be told: the item is shared already (it waited for the
# other's commit and read their mark), or that the two crossed, to try again.
CLEAR_REFUSALS = {
    ("Refused", texts.ALREADY_SHARED.format(label=ItemKind.NOTE.label)),
    ("Conflict", texts.CROSSED_CHANGE),
}


def test_two_staff_first_sharing_one_item_at_once_make_one_mark(
    firm: Firm, database_url: str, service: Service, env: dict[str, str], tmp_path: Path
) -> None:
    add_staff(firm, "bea")
    notes = add_notes(firm, ITEMS)
    children = {
        login: start_child(
            env,
            "first-share",
            url=database_url,
            login=login,
            items=as_args(notes),
            folder=str(tmp_path / "start"),
            result=str(tmp_path / f"{login}.json"),
        )
        for login in ("admin", "bea")
    }
    outcomes = {
        login: finish(child, tmp_path / f"{login}.json") for login, child in children.items()
    }

    for n, (_, note) in enumerate(notes):
        got = [outcomes[login][n] for login in ("admin", "bea")]
        assert {"ok": SHARED} in got, got
        for outcome in got:
            if "error" in outcome:
                error = outcome["error"]
                assert error["module"] == "portal_tui.domain.decision", error
                assert (error["type"], error["message"]) in CLEAR_REFUSALS, error
        # One version per share that succeeded, each new.
        succeeded = got.count({"ok": SHARED})
        assert item_versions(firm.repo, ItemKind.NOTE, note) == list(range(1, succeeded + 1))
    marks = share_marks(firm.repo)
    assert sorted(marks) == sorted((ItemKind.NOTE.value, note) for _, note in notes)
    assert all(wanted for wanted, _ in marks.values())
    assert doubled_versions(firm.repo) == []

    synced = portal_tui(firm_env(env, database_url, service), "sync")
    assert synced.returncode == 0, synced.stderr
    assert_portal_holds_the_marks(service, firm.repo)
