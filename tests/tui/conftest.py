"""Fixtures of the staff app's pilot tests: a tiny purpose-built firm per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import TuiFirm, build_firm


@pytest.fixture
def tui_firm(tmp_path: Path) -> Iterator[TuiFirm]:
    firm = build_firm(tmp_path)
    yield firm
    firm.system.close()
