"""Mail tests: a portal database filled row by row, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from portal_tui.database import Database
from portal_tui.domain import ALL_CATEGORIES
from portal_tui.domain.kinds import categories_to_names
from portal_tui.service.config import ServiceConfig, SmtpSettings
from portal_tui.service.models import (
    Account,
    ClientUpload,
    PortalContact,
    PortalFirm,
    PortalItem,
    PortalMatter,
)
from portal_tui.service.schema import ensure_service_schema
from portal_tui.sqltypes import utcnow

ALL = categories_to_names(set(ALL_CATEGORIES))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/portal.db")
    ensure_service_schema(database)
    yield database
    database.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# The SMTP server ------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every envelope, or answers "451 try later" while
    `refuse` is above zero."""

    received: list[Received] = field(default_factory=list)
    refuse: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return "451 try later"
        content = envelope.original_content or b""
        self.received.append(
            Received(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], content)
        )
        return "250 OK"


@dataclass
class SmtpServer:
    handler: Collector
    port: int
    kwargs: dict[str, Any]
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **self.kwargs
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on a free loopback port; tests may stop and start it again."""
    server = SmtpServer(Collector(), free_port(), {})
    server.start()
    yield server
    server.stop()


def smtp_config(tmp_path: Path, port: int, **smtp: Any) -> ServiceConfig:
    settings = SmtpSettings(host="127.0.0.1", port=port, starttls=False)
    return ServiceConfig(
        database_url=f"sqlite:///{tmp_path}/portal.db",
        data_dir=tmp_path / "data",
        base_url="https://portal.example.com",
        smtp=dataclasses.replace(settings, **smtp),
        mail_from="Portal <portal@example.com>",
        send_mail=False,
        prune=False,
    )


@pytest.fixture
def config(tmp_path: Path, smtp_server: SmtpServer) -> ServiceConfig:
    return smtp_config(tmp_path, smtp_server.port)


@pytest.fixture
def eml_config(tmp_path: Path) -> ServiceConfig:
    return ServiceConfig(
        database_url=f"sqlite:///{tmp_path}/portal.db",
        data_dir=tmp_path / "data",
        base_url="https://portal.example.com",
        send_mail=False,
        prune=False,
    )


# The data -------------------------------------------------------------------------------------


class Portal:
    """Inserts service rows the way the staff API would leave them; each call commits."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ids = 100

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def _add(self, row: Any) -> Any:
        with self.db.write() as s:
            s.add(row)
        return row

    def firm(self, name: str = "Smith & Jones LLP", **settings: Any) -> PortalFirm:
        with self.db.write() as s:
            firm = s.get(PortalFirm, 1) or PortalFirm(id=1, permissions=ALL)
            firm.name = name
            for key, value in settings.items():
                setattr(firm, key, value)
            s.add(firm)
        return firm

    def matter(
        self,
        number: str = "2025-001",
        name: str = "Estate of Smith",
        *,
        notify: list[dict[str, Any]] | None = None,
        permissions: list[str] | None = None,
        enabled: bool = True,
    ) -> PortalMatter:
        return self._add(  # type: ignore[no-any-return]
            PortalMatter(
                id=self._id(),
                number=number,
                name=name,
                enabled=enabled,
                permissions=ALL if permissions is None else permissions,
                notify=notify or [],
            )
        )

    def account(self, name: str = "Alice Client", email: str = "alice@example.net") -> Account:
        return self._add(  # type: ignore[no-any-return]
            Account(id=self._id(), name=name, email=email, activated_at=utcnow())
        )

    def contact(
        self,
        matter: PortalMatter,
        account: Account,
        *,
        status: str = "active",
        invitations_sent: int = 1,
    ) -> PortalContact:
        return self._add(  # type: ignore[no-any-return]
            PortalContact(
                id=self._id(),
                matter_id=matter.id,
                account_id=account.id,
                name=account.name,
                email=account.email,
                status=status,
                invitations_sent=invitations_sent,
            )
        )

    def item(
        self,
        matter: PortalMatter,
        kind: str = "document",
        data: dict[str, Any] | None = None,
        *,
        batch: str | None = "batch-1",
        published: bool = True,
        published_at: datetime | None = None,
    ) -> PortalItem:
        item_id = self._id()
        if data is None:
            data = {"name": f"file-{item_id}.pdf"}
        return self._add(  # type: ignore[no-any-return]
            PortalItem(
                kind=kind,
                item_id=item_id,
                matter_id=matter.id,
                published=published,
                version=1,
                data=data if published else None,
                published_at=published_at or utcnow(),
                batch=batch,
            )
        )

    def upload(
        self, matter: PortalMatter, contact: PortalContact, name: str = "passport.pdf"
    ) -> ClientUpload:
        return self._add(  # type: ignore[no-any-return]
            ClientUpload(
                matter_id=matter.id,
                contact_id=contact.id,
                name=name,
                content_type="application/pdf",
                size=123_456,
                sha256="0" * 64,
                content=b"%PDF-1.4",
                uploaded_at=datetime(2025, 5, 6, 9, 30, tzinfo=UTC),
            )
        )


@pytest.fixture
def portal(db: Database) -> Portal:
    p = Portal(db)
    p.firm()
    return p
