"""`portal-tui sync`, run as cron would run it: one delivery and sync pass, headless; a portal
that cannot be used is one line on stderr and exit status 2, with every share kept pending."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from portal_tui.database import Database
from portal_tui.domain import ItemKind, OutboxOp, ShareState
from portal_tui.repository import Repository
from portal_tui.service.models import PortalItem
from portal_tui.store.models import OutboxEntry

from .support import Firm, Service, portal_tui


def _with(env: dict[str, str], **settings: str) -> dict[str, str]:
    return {**env, **{f"PORTAL_TUI_{k.upper()}": v for k, v in settings.items()}}


def _share_notes(firm: Firm, count: int) -> None:
    notes = [
        (ItemKind.NOTE, firm.repo.add_note(firm.matters[0], subject=f"Note {n}", body="."))
        for n in range(count)
    ]
    firm.repo.share_many(notes, share=True)


def test_sync_delivers_a_seeded_demo_to_the_embedded_portal(env: dict[str, str]) -> None:
    seeded = portal_tui(env, "seed", "--demo")
    assert seeded.returncode == 0, seeded.stderr
    data = Path(env["PORTAL_TUI_DATA_DIR"])
    repo = Repository.open(f"sqlite:///{data / 'firm.db'}")
    try:
        pending = repo.pending_deliveries()
        shared = repo.count_shared()[ShareState.PENDING]
        assert pending > shared > 0
        with repo.db.read() as s:
            # Each share of the demo is a batch of its own, announced once it is delivered.
            batches = s.scalar(
                select(func.count(func.distinct(OutboxEntry.batch))).where(
                    OutboxEntry.op == OutboxOp.PUBLISH
                )
            )
        assert batches

        run = portal_tui(env, "sync")
        assert run.returncode == 0, run.stderr
        assert run.stderr == ""
        assert run.stdout == (
            f"Delivered {pending + batches} to the embedded portal; 0 to retry, 0 failed; 0 "
            "change(s) from "
            "clients applied; 0 still pending.\n"
        )
        assert repo.pending_deliveries() == 0 and repo.delivery_problem() is None
        assert repo.count_shared() == {ShareState.SHARED: shared}
    finally:
        repo.close()
    # The embedded portal keeps its own database under the data folder, holding each share.
    portal = Database(f"sqlite:///{data / 'portal.db'}")
    try:
        with portal.read() as s:
            held = s.scalar(
                select(func.count()).select_from(PortalItem).where(PortalItem.published.is_(True))
            )
        assert held == shared
    finally:
        portal.dispose()

    again = portal_tui(env, "sync")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("Delivered 0 to the embedded portal;")


def test_sync_with_the_portal_down_says_so_in_one_line_and_keeps_the_shares(
    env: dict[str, str], firm: Firm, firm_url: str
) -> None:
    _share_notes(firm, 3)
    pending = firm.repo.pending_deliveries()
    # A port nobody listens on: the portal service is down.
    closed = "http://127.0.0.1:9"
    run = portal_tui(
        _with(env, database_url=firm_url, portal_url=closed, portal_token="ptk_x"), "sync"
    )
    assert run.returncode == 2
    assert run.stderr == (
        f"portal-tui: The portal service at {closed} cannot be reached (ConnectError); shares "
        "stay pending and go out when it is back.\n"
    )
    assert run.stdout.startswith(f"Delivered 0 to {closed}; ")
    assert run.stdout.endswith(f"; {pending} still pending.\n")
    assert firm.repo.pending_deliveries() == pending
    assert firm.repo.count_shared() == {ShareState.PENDING: 3}
    assert firm.repo.delivery_problem() == run.stderr.removeprefix("portal-tui: ").strip()

    no_token = portal_tui(_with(env, database_url=firm_url, portal_url=closed), "sync")
    assert no_token.returncode == 2
    assert no_token.stderr.count("\n") == 1
    assert "portal_url is set but portal_token is not" in no_token.stderr


def test_sync_with_a_wrong_token_says_which_setting_to_fix(
    env: dict[str, str], service: Service, firm: Firm, firm_url: str
) -> None:
    _share_notes(firm, 2)
    pending = firm.repo.pending_deliveries()
    run = portal_tui(
        _with(env, database_url=firm_url, portal_url=service.base, portal_token="ptk_wrong"),
        "sync",
    )
    assert run.returncode == 2
    assert run.stderr == (
        f"portal-tui: The portal service at {service.base} refused the staff token (401); set "
        "portal_token to a valid token (portal-tui token create --staff LOGIN).\n"
    )
    assert firm.repo.pending_deliveries() == pending
    assert firm.repo.count_shared() == {ShareState.PENDING: 2}

    fixed = portal_tui(
        _with(env, database_url=firm_url, portal_url=service.base, portal_token=service.token),
        "sync",
    )
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.endswith("; 0 still pending.\n")
    assert firm.repo.count_shared() == {ShareState.SHARED: 2}
    assert firm.repo.delivery_problem() is None
