"""Waiting for a screen to be ready, bounded: a list that never reads its first page fails its
snapshot in a minute with a clear error, instead of holding the whole suite until CI's limit."""

from __future__ import annotations

import asyncio

# Generous: a snapshot on a loaded 2-core CI machine can take seconds to settle.
READY_TIMEOUT_S = 60.0


async def waited(event: asyncio.Event, what: str = "the screen") -> None:
    try:
        await asyncio.wait_for(event.wait(), READY_TIMEOUT_S)
    except TimeoutError:
        raise AssertionError(f"{what} was not ready within {READY_TIMEOUT_S:.0f} s") from None
