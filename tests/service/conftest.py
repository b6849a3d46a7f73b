"""A portal service on a fresh SQLite database, driven in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal_tui.database import Database
from portal_tui.service.app import create_app
from portal_tui.service.config import ServiceConfig


@pytest.fixture
def service_config(tmp_path: Path) -> ServiceConfig:
    return ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'portal.db'}",
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,  # driven by hand where tested, as the mail sender is
    )


@pytest.fixture
def service_app(service_config: ServiceConfig) -> FastAPI:
    return create_app(service_config)


@pytest.fixture
def client(service_app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client of the running app (lifespan started: database open and current)."""
    with TestClient(service_app) as c:
        yield c


@pytest.fixture
def service_db(client: TestClient) -> Database:
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    return db
