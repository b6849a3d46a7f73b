"""A real `portal-tui serve` per test, and the delivery tests' firm (an Admin and three
matters over two clients, each invited): on both engines, or on one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..delivery.support import Firm, Service, build_firm, clean_env


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
def firm(database_url: str) -> Iterator[Firm]:
    """On SQLite and on PostgreSQL (`database_url` is parametrized over both)."""
    built = build_firm(database_url, [2, 1])
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def sqlite_firm(sqlite_url: str) -> Iterator[Firm]:
    built = build_firm(sqlite_url, [2, 1])
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def pg_firm(pg_url: str) -> Iterator[Firm]:
    built = build_firm(pg_url, [2, 1])
    try:
        yield built
    finally:
        built.close()
