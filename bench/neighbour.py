"""A busy neighbour: one core kept busy by a tight Python loop in a process of its own for the
whole run (`--neighbour`), so that every figure can be given on an idle machine and on one
where another program wants a core."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

BURN = "while True:\n    pass\n"


@contextmanager
def busy_neighbour(enabled: bool) -> Iterator[bool]:
    """While inside, a process burning one core (if `enabled`); whether one ran."""
    if not enabled:
        yield False
        return
    proc = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.DEVNULL)
    try:
        yield True
    finally:
        proc.kill()
        proc.wait(10)
