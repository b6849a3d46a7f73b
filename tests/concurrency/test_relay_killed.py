"""A relay (`portal-tui sync --watch`) SIGKILLed in the middle of a batch — the portal has
the request, its answer not back yet, and the relay's claim holds more rows behind it — leaves
its claimed rows leased (docs/many-staff.md, "The relay"): another relay, running beside it,
takes them once the lease has run out and delivers them within 15 s of the kill, each once
(the batch that was in flight is answered as already applied). On PostgreSQL, where the claims
are FOR UPDATE SKIP LOCKED and the killed relay's connection dies with it."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import select

from portal_tui.domain import OutboxState
from portal_tui.store.models import OutboxEntry

from ..delivery.support import Firm, Service, add_notes, deliver_all, share_all, wait_for
from .support import (
    HeldPortal,
    applied_versions,
    firm_env,
    portal_items,
    relay_client,
    start_watch,
)

RETRIED_WITHIN_S = 15.0  # the requirement: a SIGKILLed relay's rows are delivered within this


def _rows(firm: Firm, ids: set[int] | None = None) -> dict[int, tuple[OutboxState, str | None]]:
    """The outbox rows (`ids`, or every pending one): state and claim."""
    with firm.repo.db.read() as s:
        stmt = select(OutboxEntry.id, OutboxEntry.state, OutboxEntry.claimed_by)
        if ids is None:
            stmt = stmt.where(OutboxEntry.state == OutboxState.PENDING)
        else:
            stmt = stmt.where(OutboxEntry.id.in_(sorted(ids)))
        return {row_id: (state, claim) for row_id, state, claim in s.execute(stmt)}


def test_a_killed_relays_rows_are_delivered_by_another_within_15_s_each_once(
    pg_firm: Firm, pg_url: str, service: Service, env: dict[str, str], tmp_path: Path
) -> None:
    firm = pg_firm
    client = relay_client(service, firm.repo)
    try:
        deliver_all(firm.repo, client)  # the matters and contacts: only the shares are left
    finally:
        client.close()
    notes = add_notes(firm, 300)  # two batches: one in flight, one waiting behind it
    share_all(firm, notes)
    portal = HeldPortal(service)
    relay_env = {**firm_env(env, pg_url, service), "PORTAL_TUI_PORTAL_URL": portal.base}
    killed = start_watch(relay_env, tmp_path, "killed")
    other: subprocess.Popen[bytes] | None = None
    try:
        assert portal.in_flight.wait(60), "the relay never sent a batch"
        held = _rows(firm)
        claims = {claim for _, claim in held.values()}
        assert len(held) >= len(notes) and len(claims) == 1 and None not in claims
        # Another relay beside it, up and polling: every row it finds is leased.
        other = start_watch(relay_env, tmp_path, "other")
        wait_for(
            lambda: "Watching the outbox" in (tmp_path / "other.out").read_text(),
            timeout=30,
            what="the other relay to be watching",
        )
        assert _rows(firm) == held
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        at = time.monotonic()

        wait_for(
            lambda: (
                {state for state, _ in _rows(firm, set(held)).values()} == {OutboxState.DELIVERED}
            ),
            timeout=RETRIED_WITHIN_S,
            what="the killed relay's rows delivered by the other",
            every=0.1,
        )
        took = time.monotonic() - at
        assert other.poll() is None
        assert {claim for _, claim in _rows(firm, set(held)).values()}.isdisjoint(claims)
    finally:
        portal.close()
        for relay in (killed, other):
            if relay is not None and relay.poll() is None:
                relay.send_signal(signal.SIGTERM)
                relay.wait(30)
    assert took < RETRIED_WITHIN_S
    # The batch that was in flight went again as the same request, and the portal answered
    # what it had answered the killed relay, without applying it again.
    assert portal.held is not None
    again = [x for x in portal.proxy.exchanges if x.key == portal.held.key and x is not portal.held]
    assert again and all(x.status == 200 and x.replayed for x in again), again

    shown = portal_items(service)
    assert [shown[("note", note)] for _, note in notes] == [(True, 1)] * len(notes)
    applied = applied_versions(service)
    assert [applied[("note", note, 1)] for _, note in notes] == [1] * len(notes)
