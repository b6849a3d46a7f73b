"""A real `portal-tui serve` per test, and the delivery tests' firm (an Admin and three
matters over two clients, each invited): on both engines, or on one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..delivery.conftest import env, service
from ..delivery.support import Firm, build_firm

__all__ = ["env", "firm", "pg_firm", "service", "sqlite_firm"]  # the delivery tests' own two


def _firm(url: str) -> Iterator[Firm]:
    built = build_firm(url, [2, 1])
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def firm(database_url: str) -> Iterator[Firm]:
    """On SQLite and on PostgreSQL (`database_url` is parametrized over both)."""
    yield from _firm(database_url)


@pytest.fixture
def sqlite_firm(sqlite_url: str) -> Iterator[Firm]:
    yield from _firm(sqlite_url)


@pytest.fixture
def pg_firm(pg_url: str) -> Iterator[Firm]:
    yield from _firm(pg_url)
