"""One portal serves one firm: the first firm that delivers to a portal binds it, and a second
firm's deliveries are refused with a message naming both — item ids of two firms collide, and a
client's reply to one firm's message must never be applied to the other's item."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.domain import ItemKind, ShareState
from portal_tui.repository.portal_client import PortalClient
from portal_tui.repository.worker import run_pass
from portal_tui.service.models import PortalItem

from .support import Firm, Service, build_firm, deliver_all, portal_tui


def _portal_items(service: Service) -> dict[tuple[str, int], tuple[bool, int, str | None]]:
    db = Database(service.database_url)
    try:
        with db.read() as s:
            return {
                (i.kind, i.item_id): (i.published, i.version, (i.data or {}).get("subject"))
                for i in s.scalars(select(PortalItem))
            }
    finally:
        db.dispose()


def _relay(service: Service, firm: Firm) -> PortalClient:
    return PortalClient(
        service.base,
        service.token,
        document_content=firm.repo.document_content,
        firm=firm.repo.firm_identity(),
    )


def test_a_second_firm_is_refused_by_a_portal_bound_to_the_first(
    service: Service, firm: Firm, tmp_path: Path
) -> None:
    note = firm.repo.add_note(firm.matters[0], subject="First firm's note", body=".")
    firm.repo.share(ItemKind.NOTE, note)
    first = _relay(service, firm)
    other = build_firm(f"sqlite:///{tmp_path / 'other.db'}", [1])
    second = _relay(service, other)
    try:
        deliver_all(firm.repo, first)
        before = _portal_items(service)
        assert before[(ItemKind.NOTE.value, note)][0] is True

        # The second firm's item has the same id as the first's: it must not land on it.
        clash = other.repo.add_note(other.matters[0], subject="Second firm's note", body=".")
        assert clash == note
        other.repo.share(ItemKind.NOTE, clash)
        report = run_pass(other.repo, second)

        first_id, second_id = firm.repo.firm_identity(), other.repo.firm_identity()
        assert first_id is not None and second_id is not None
        assert report.problem is not None
        assert f'serves another firm ("{first_id.name}", id {first_id.firm_id})' in report.problem
        assert f"id {second_id.firm_id}" in report.problem
        assert "set portal_url to this firm's portal" in report.problem
        # A lasting problem, for the status line; nothing of the second firm was taken.
        assert other.repo.delivery_problem() == report.problem
        assert other.repo.count_shared() == {ShareState.PENDING: 1}
        assert _portal_items(service) == before

        # The changes feed is the first firm's too: the second may not read it.
        with httpx.Client(base_url=service.base + "/api/v1") as raw:
            refused = raw.get(
                "/changes",
                headers={
                    "Authorization": f"Bearer {service.token}",
                    "X-Portal-Firm": second_id.firm_id,
                    "X-Portal-Firm-Epoch": "1",
                },
            )
        assert refused.status_code == 421
        assert refused.json()["code"] == "other_firm"

        # The first firm goes on as before.
        firm.repo.unshare(ItemKind.NOTE, note)
        deliver_all(firm.repo, first)
        assert _portal_items(service)[(ItemKind.NOTE.value, note)][0] is False
    finally:
        first.close()
        second.close()
        other.close()


def test_status_says_which_firm_this_is_and_which_firm_the_portal_serves(
    env: dict[str, str], service: Service, firm: Firm, firm_url: str
) -> None:
    settings = {
        "PORTAL_TUI_DATABASE_URL": firm_url,
        "PORTAL_TUI_PORTAL_URL": service.base,
        "PORTAL_TUI_PORTAL_TOKEN": service.token,
    }
    identity = firm.repo.firm_identity()
    assert identity is not None
    unbound = portal_tui({**env, **settings}, "status")
    assert unbound.returncode == 0, unbound.stderr
    assert f'"{identity.name}" (id {identity.firm_id}, epoch 1)' in unbound.stdout
    assert "it serves no firm yet" in unbound.stdout

    relay = _relay(service, firm)
    try:
        deliver_all(firm.repo, relay)
    finally:
        relay.close()
    bound = portal_tui({**env, **settings}, "status")
    assert bound.returncode == 0, bound.stderr
    assert f"{service.base}  (it serves this firm, epoch 1)" in bound.stdout
    assert "problem  : none" in bound.stdout
