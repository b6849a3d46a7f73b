"""What the concurrency tests share: the child programs (children.py) started as OS processes,
more staff users on a firm, and what the firm and the portal each hold of every item, read
from their own databases (the delivery tests' Service, build_firm and friends do the rest)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from portal_tui.database import Database
from portal_tui.domain import InvoiceStatus, ItemKind, OutboxOp, StaffRole
from portal_tui.repository import Repository
from portal_tui.repository.portal_client import PortalClient
from portal_tui.service.models import IdempotencyRecord, PortalItem
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry, ShareMark

from ..delivery.support import Exchange, Firm, LossyProxy, Service

CHILDREN = Path(__file__).with_name("children.py")
Key = tuple[ItemKind, int]
# Who each staff login is, by name: a refusal names them so.
STAFF = {
    "admin": "Ada Admin",
    "bea": "Bea Brennan",
    "cal": "Cal Cooper",
    "dot": "Dot Dunne",
}


def start_watch(env: dict[str, str], folder: Path, name: str) -> subprocess.Popen[bytes]:
    """`portal-tui sync --watch`, a relay beside the staff apps; what it prints goes to
    folder/name.out and .err (a pipe nobody reads would block it once full)."""
    with (folder / f"{name}.out").open("wb") as out, (folder / f"{name}.err").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "portal_tui", "sync", "--watch"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )


class HeldPortal:
    """A loopback proxy in front of the service that holds back the answer to the first batch
    of items it forwards (the service has applied it; the relay waits for the answer) until
    `release()`: a relay's batch in flight for as long as a test needs."""

    def __init__(self, service: Service) -> None:
        self.in_flight = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self.held: Exchange | None = None
        self.proxy = LossyProxy(service.port, on_forwarded=self._hold)

    @property
    def base(self) -> str:
        return self.proxy.base

    def _hold(self, exchange: Exchange) -> None:
        with self._lock:
            if self.held is not None or exchange.path != "/api/v1/items/batch":
                return
            self.held = exchange
        self.in_flight.set()
        self._released.wait(120)
        exchange.dropped = True  # the relay that sent it is gone by now

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self.release()
        self.proxy.close()


def start_child(env: dict[str, str], program: str, **args: Any) -> subprocess.Popen[str]:
    """One of children.py's programs in an OS process of its own; its stderr is piped (read
    it with `finish`)."""
    return subprocess.Popen(
        [sys.executable, str(CHILDREN), program, json.dumps(args)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(child: subprocess.Popen[str], result: Path, *, timeout: float = 60) -> Any:
    """Wait for the child, which must exit 0, and return what it wrote to `result`."""
    _, err = child.communicate(timeout=timeout)
    assert child.returncode == 0, err
    return json.loads(result.read_text(encoding="utf-8"))


def firm_env(env: dict[str, str], url: str, service: Service) -> dict[str, str]:
    """`portal-tui` commands on this firm, delivering to this service."""
    return {
        **env,
        "PORTAL_TUI_DATABASE_URL": url,
        "PORTAL_TUI_PORTAL_URL": service.base,
        "PORTAL_TUI_PORTAL_TOKEN": service.token,
    }


def add_staff(firm: Firm, *logins: str) -> None:
    for login in logins:
        firm.repo.add_staff(login, STAFF[login], f"{login}@firm.test", StaffRole.NORMAL)


def mixed_items(firm: Firm) -> list[Key]:
    """Six items of five kinds over the firm's matters, none shared yet."""
    repo, matters = firm.repo, firm.matters
    folder = repo.client_portal_folder(matters[0])
    return [
        (ItemKind.NOTE, repo.add_note(matters[0], subject="Engagement letter", body=".")),
        (ItemKind.NOTE, repo.add_note(matters[-1], subject="Next steps", body=".")),
        (ItemKind.TASK, repo.add_task(matters[0], title="Sign the lease")),
        (ItemKind.EVENT, repo.add_event(matters[-1], title="Hearing", starts_at=utcnow())),
        (
            ItemKind.INVOICE,
            repo.add_invoice(
                matters[0],
                number="INV-1",
                issued_on=date(2026, 3, 2),
                lines=[("Advice", 2, 15_000)],
                status=InvoiceStatus.FINAL,
            ),
        ),
        (
            ItemKind.DOCUMENT,
            repo.add_document(matters[0], folder, name="lease.pdf", content=b"%PDF-1.4 lease"),
        ),
    ]


def relay_client(service: Service, repo: Repository) -> PortalClient:
    """A relay's client of the service, as the app makes it."""
    return PortalClient(
        service.base,
        service.token,
        document_content=repo.document_content,
        firm=repo.firm_identity(),
    )


def as_args(items: list[Key]) -> list[list[Any]]:
    """Items as a child takes them in its JSON arguments."""
    return [[kind.value, item_id] for kind, item_id in items]


# What each side holds --------------------------------------------------------------------------


def portal_items(service: Service) -> dict[tuple[str, int], tuple[bool, int]]:
    """The portal's copy of each item it has heard of: (published, version)."""
    db = Database(service.database_url)
    try:
        with db.read() as s:
            return {
                (item.kind, item.item_id): (item.published, item.version)
                for item in s.scalars(select(PortalItem))
            }
    finally:
        db.dispose()


def share_marks(repo: Repository) -> dict[tuple[str, int], tuple[bool, int]]:
    """The firm's share mark of each item ever shared: (wanted, version)."""
    with repo.db.read() as s:
        return {
            (mark.kind.value, mark.item_id): (mark.wanted, mark.version)
            for mark in s.scalars(select(ShareMark))
        }


def assert_portal_holds_the_marks(service: Service, repo: Repository) -> None:
    """Every item the firm ever shared is on the portal exactly as its mark wants it, at the
    mark's version, and nothing else is published there."""
    marks = share_marks(repo)
    portal = portal_items(service)
    assert {key: portal.get(key) for key in marks} == marks
    published = {key for key, (shown, _) in portal.items() if shown}
    assert published == {key for key, (wanted, _) in marks.items() if wanted}


def item_versions(repo: Repository, kind: ItemKind, item_id: int) -> list[int]:
    """The versions of an item's publish and revoke rows, in the order they were written."""
    with repo.db.read() as s:
        return list(
            s.scalars(
                select(OutboxEntry.version)
                .where(OutboxEntry.kind == kind.value, OutboxEntry.item_id == item_id)
                .where(OutboxEntry.op.in_([OutboxOp.PUBLISH, OutboxOp.REVOKE]))
                .order_by(OutboxEntry.id)
            )
        )


def doubled_versions(repo: Repository) -> list[tuple[str | None, int | None, int, int]]:
    """(kind, item, version, rows) of every version written on more than one publish or
    revoke row: two changes of an item must never share a version."""
    with repo.db.read() as s:
        rows = s.execute(
            select(OutboxEntry.kind, OutboxEntry.item_id, OutboxEntry.version, func.count())
            .where(OutboxEntry.op.in_([OutboxOp.PUBLISH, OutboxOp.REVOKE]))
            .group_by(OutboxEntry.kind, OutboxEntry.item_id, OutboxEntry.version)
            .having(func.count() > 1)
        )
        return [(kind, item_id, version, n) for kind, item_id, version, n in rows]


def applied_versions(service: Service) -> Counter[tuple[str, int, int]]:
    """How many times the portal applied each (kind, item, version), from the answers it keeps
    with each Idempotency-Key (a single publish or revoke, or each operation of a batch)."""
    applied: Counter[tuple[str, int, int]] = Counter()
    db = Database(service.database_url)
    try:
        with db.read() as s:
            records = s.execute(
                select(IdempotencyRecord.path, IdempotencyRecord.response).where(
                    IdempotencyRecord.path.like("%/items/%")
                )
            )
            for path, response in records:
                if not response or path.partition("?")[0].endswith("/content"):
                    continue  # a document's bytes, sent after its publish
                body = json.loads(response["body"])
                outcomes = (
                    [r["item"] for r in body["results"] if r["result"] == "applied"]
                    if "results" in body
                    else [body]
                    if body.get("applied")
                    else []
                )
                for out in outcomes:
                    applied[(out["kind"], out["item_id"], out["version"])] += 1
    finally:
        db.dispose()
    return applied
