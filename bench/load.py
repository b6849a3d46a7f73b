"""A small HTTP/1.1 load generator on asyncio streams: keep-alive connections, one request at
a time on each, every answer read whole. httpx's own client costs a few milliseconds of CPU
per request, which on two cores caps it below the rates the targets ask for; this one costs
far less, and its ceiling is measured beside every figure (bench/apps/floor.py)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# (method, path, headers, body) of the n-th request.
MakeRequest = Callable[[int], tuple[str, str, dict[str, str], bytes]]


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value.strip())
            elif key == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif key == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_load(
    host: str, port: int, make: MakeRequest, concurrency: int, seconds: float, into: Load
) -> None:
    """`concurrency` connections send requests back to back for `seconds`."""
    counter = iter(range(1 << 62))
    stop = time.perf_counter() + seconds

    async def one() -> None:
        conn = Connection(host, port)
        try:
            while time.perf_counter() < stop:
                method, path, headers, body = make(next(counter))
                started = time.perf_counter()
                try:
                    status = await conn.request(method, path, headers, body)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    into.errors[type(exc).__name__] += 1
                    conn.close()
                    continue
                if status == 200:
                    into.latencies.append(time.perf_counter() - started)
                else:
                    into.errors[f"HTTP {status}"] += 1
        finally:
            conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(concurrency)))
    into.elapsed += time.perf_counter() - began
