"""Page-at-depth query time, in-process: the repository's list_items with a keyset `after` (and
`before`) taken deep in the list, against the same statement paged by OFFSET to the same depth
(what a list without keysets would pay)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import func, select

from . import data
from .results import Figure, Samples, figure, ms, not_measured

PAGE = 100  # rows per page, as the app's lists read them
DEPTHS = (0.0, 0.01, 0.1, 0.5, 0.9, 1.0)  # share of the list above the page


def run(size: data.Size, reps: int, log: data.Log) -> list[Figure]:
    from portal_tui.domain.kinds import ItemKind
    from portal_tui.repository import Repository

    repo = Repository.open(data.sqlite_url(size.firm), "scale.admin")
    out: list[Figure] = []
    try:
        for kind, label in ((ItemKind.INVOICE, "Invoices"), (ItemKind.EVENT, "Calendar")):
            keyset, offset = Samples(), Samples()
            try:
                _measure(repo, kind, reps, keyset, offset, log)
            except Exception as exc:
                out.append(not_measured(f"{label}: page at any depth", "<= 10 ms", str(exc)))
                continue
            out.append(
                figure(
                    f"{label}: page at any depth (query)",
                    "p95 <= 10 ms",
                    keyset,
                    show=ms,
                    limit=0.010,
                    baseline=offset,
                    baseline_stat="p95",
                    note=f"list_items after/before a key at {len(DEPTHS)} depths, {PAGE} rows; "
                    "baseline: the same statement with OFFSET",
                )
            )
    finally:
        repo.close()
    return out


def _measure(
    repo: Any, kind: Any, reps: int, keyset: Samples, offset: Samples, log: data.Log
) -> None:
    from portal_tui.repository.lists import _SPECS  # the list's own order, for OFFSET
    from portal_tui.repository.share_rows import MODEL_OF

    spec, model = _SPECS[kind], MODEL_OF[kind]
    sort = spec.sort()
    order = (sort.desc(), model.id.desc()) if spec.descending else (sort.asc(), model.id.asc())
    base = repo.lists._select(kind).order_by(*order)
    with repo.db.read() as s:
        total = int(s.scalar(select(func.count()).select_from(model)) or 0)
    if total <= PAGE:
        raise RuntimeError(f"only {total} rows")

    def offset_page(depth: int) -> list[Any]:
        with repo.db.read() as s:
            return list(s.execute(base.limit(PAGE).offset(depth)).all())

    depths = sorted({min(int(total * d), total - PAGE) for d in DEPTHS})
    keys = []
    for depth in depths:
        row = offset_page(depth)[0]
        keys.append(spec.to_row(row).key)
    log(f"queries: {kind.value}: {total:,} rows, depths {depths}")

    def timed(samples: Samples, call: Callable[[], object]) -> None:
        started = time.perf_counter()
        call()
        samples.add(time.perf_counter() - started)

    for _ in range(reps):
        for depth, key in zip(depths, keys, strict=True):
            timed(offset, partial(offset_page, depth))
            timed(keyset, partial(repo.list_items, kind, after=key, limit=PAGE))
            timed(keyset, partial(repo.list_items, kind, before=key, limit=PAGE))
