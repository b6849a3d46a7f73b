"""A real `portal-tui serve` per test (own SQLite, own data folder with its .eml mail folder),
a staff token for it, and a firm database with a PortalClient pointed at the service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portal_tui.repository.portal_client import PortalClient

from .support import Firm, Service, build_firm, clean_env

# Short, so that a test of a portal that does not answer does not wait ten seconds per try.
CLIENT_TIMEOUT = 5.0


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path)


@pytest.fixture
def service(env: dict[str, str], tmp_path: Path) -> Iterator[Service]:
    svc = Service(env, tmp_path)
    svc.start()
    try:
        yield svc
    finally:
        svc.kill()


@pytest.fixture
def firm_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'firm.db'}"


@pytest.fixture
def firm(firm_url: str) -> Iterator[Firm]:
    """Two clients: the first with two matters, the second with one; all invited."""
    built = build_firm(firm_url, [2, 1])
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def portal(service: Service, firm: Firm) -> Iterator[PortalClient]:
    client = PortalClient(
        service.base,
        service.token,
        document_content=firm.repo.document_content,
        invoice_pdf=firm.repo.invoice_pdf,
        timeout=CLIENT_TIMEOUT,
    )
    try:
        yield client
    finally:
        client.close()
