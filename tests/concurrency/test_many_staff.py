"""Many staff at once on one firm (docs/many-staff.md): four staff members, each an OS process
of their own with the app's relay running beside (a thread of run_pass passes, as the app's
delivery worker), share and unshare six items of five kinds at random — one by one, and now
and then two or three in a bulk, a few milliseconds apart — for DURATION_S, against one real
portal service; on one PostgreSQL firm and on one SQLite file. Then a last delivery. Nothing
is lost or doubled:

- the portal holds exactly what the firm's share marks say, at the marks' versions;
- no two publish or revoke rows of an item carry the same version, and the portal applied no
  version of an item twice (the answers it keeps with each Idempotency-Key say what it did);
- every change a staff member made is in the audit trail once, under their name;
- the only exceptions anyone met are the domain's clear refusals: the item was shared or
  unshared by someone else a moment before, or the retryable Conflict / Unavailable, each one
  line — never a driver's IntegrityError or OperationalError, never a traceback.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from portal_tui.domain import ItemKind, texts
from portal_tui.store.models import AuditEntry

from ..delivery.support import Firm, Service, deliver_all
from .support import (
    add_staff,
    applied_versions,
    as_args,
    assert_portal_holds_the_marks,
    doubled_versions,
    finish,
    mixed_items,
    relay_client,
    start_child,
)

DURATION_S = 30.0  # the requirement: four staff at it at once for 30 s
LOGINS = ("admin", "bea", "cal", "dot")
# Told to the one who comes second to an item someone else has just shared or unshared.
RACED = {
    text.format(label=kind.label)
    for kind in ItemKind
    for text in (texts.ALREADY_SHARED, texts.NOT_SHARED_YET)
}
RETRYABLE = {"Conflict", "Unavailable"}
DRIVER_WORDS = ("Traceback", "IntegrityError", "OperationalError", "psycopg", "sqlite3", "SQL")


def _unclear(error: dict[str, Any], *, relay: bool) -> bool:
    """Whether an exception is anything but a clear, one-line refusal of the domain."""
    message = error["message"]
    clear = (
        error["module"] == "portal_tui.domain.decision"
        and (error["type"] in RETRYABLE or (not relay and message in RACED))
        and message.strip() != ""
        and "\n" not in message
        and not any(word in message for word in DRIVER_WORDS)
    )
    return not clear


def test_four_staff_sharing_and_unsharing_at_once_lose_and_double_nothing(
    firm: Firm, database_url: str, service: Service, env: dict[str, str], tmp_path: Path
) -> None:
    add_staff(firm, *LOGINS[1:])
    items = mixed_items(firm)
    client = relay_client(service, firm.repo)
    try:
        deliver_all(firm.repo, client)  # the matters and contacts, before the staff begin
        children = {
            login: start_child(
                env,
                "staff",
                url=database_url,
                login=login,
                seconds=DURATION_S,
                items=as_args(items),
                portal=service.base,
                token=service.token,
                seed=n,
                result=str(tmp_path / f"{login}.json"),
            )
            for n, login in enumerate(LOGINS)
        }
        found = {
            login: finish(child, tmp_path / f"{login}.json", timeout=DURATION_S + 90)
            for login, child in children.items()
        }
        deliver_all(firm.repo, client)
    finally:
        client.close()

    unclear = [
        (login, error)
        for login, got in found.items()
        for key in ("errors", "relay_errors")
        for error in got[key]
        if _unclear(error, relay=key == "relay_errors")
    ]
    assert unclear == []
    for login, got in found.items():
        # Each staff member got real work done, and their relay delivered some of it.
        assert len(got["done"]) > 20, (login, got["errors"][-5:])
        assert sum(got["passes"]) > 0, (login, got["relay_problems"][-5:])

    assert_portal_holds_the_marks(service, firm.repo)
    assert doubled_versions(firm.repo) == []
    applied = applied_versions(service)
    assert applied and max(applied.values()) == 1, applied.most_common(5)

    made = Counter(
        (login, op, kind, item_id)
        for login, got in found.items()
        for op, kind, item_id in got["done"]
    )
    with firm.repo.db.read() as s:
        trail = Counter(
            (actor, action, kind, item_id)
            for actor, action, kind, item_id in s.execute(
                select(
                    AuditEntry.actor, AuditEntry.action, AuditEntry.kind, AuditEntry.item_id
                ).where(AuditEntry.action.in_(["share", "unshare"]))
            )
        )
    assert trail == made
