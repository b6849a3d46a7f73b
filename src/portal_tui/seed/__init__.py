"""Data to try the app with: a realistic demo firm, and scale data for benchmarks.

Both are imported lazily by the CLI, so `portal-tui --help` does not pay for SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .demo import seed_demo
    from .scale import seed_scale

__all__ = ["seed_demo", "seed_scale"]


def __getattr__(name: str) -> object:
    if name == "seed_demo":
        from .demo import seed_demo

        return seed_demo
    if name == "seed_scale":
        from .scale import seed_scale

        return seed_scale
    raise AttributeError(name)
