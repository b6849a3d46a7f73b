"""`python -m bench`: build the data, run every speed benchmark, print the table."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence

from . import data
from .engines import PG_URL_ENV
from .neighbour import busy_neighbour
from .results import Figure, not_measured, render

PARTS = ("queries", "terminal", "service", "staff", "import")
SCALE_PARTS = ("queries", "terminal", "service")  # the parts that need the seeded scale data


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Speed benchmarks: build (or reuse) the scale data, run every "
        "benchmark side by side with its baseline, print figure, target, measured, ratio.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small run for development: 1,000 matters, 100,000 activities, fewer repetitions",
    )
    parser.add_argument("--matters", type=int, help="matters (full: 10,000)")
    parser.add_argument("--activities", type=int, help="activities (full: 1,000,000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the scale data (1)")
    parser.add_argument("--reps", type=int, help="repetitions of each timed figure")
    parser.add_argument(
        "--datatable-reps", type=int, help="runs of the stock DataTable baseline (slow at scale)"
    )
    parser.add_argument("--idle", type=float, help="seconds watched for bytes while idle")
    parser.add_argument("--bulk", type=int, help="items in the bulk share (full: 10,000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--duration", type=float, help="seconds of load per round and kind")
    parser.add_argument(
        "--staff-duration",
        type=float,
        help="seconds each staff process shares and unshares (full 30, quick 10)",
    )
    parser.add_argument(
        "--staff", type=int, default=4, help="staff processes of the many-staff run (4)"
    )
    parser.add_argument(
        "--staff-items", type=int, default=20, help="items of the many-staff firm (20)"
    )
    parser.add_argument(
        "--shares",
        type=int,
        help="share and unshare operations before the table sizes (full 100,000, quick 10,000)",
    )
    parser.add_argument(
        "--pg-url",
        metavar="URL",
        help=f"PostgreSQL admin URL for the staff part (or {PG_URL_ENV}); a database of its "
        "own is created and dropped for each run. Without it the PostgreSQL rows say n/a",
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        help="rows of each file of the import part (full 100,000, quick 10,000)",
    )
    parser.add_argument(
        "--neighbour",
        action="store_true",
        help="keep one core busy (a tight Python loop in a process of its own) for the run",
    )
    parser.add_argument(
        "--only", choices=PARTS, action="append", help="run only this part (repeatable)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quick = args.quick
    size = data.Size(
        args.matters or (1_000 if quick else 10_000),
        args.activities if args.activities is not None else (100_000 if quick else 1_000_000),
        args.seed,
    )
    reps = args.reps or (3 if quick else 5)
    parts = args.only or list(PARTS)
    started = time.monotonic()

    def log(line: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {line}", file=sys.stderr, flush=True)

    with busy_neighbour(args.neighbour) as neighbour:
        if neighbour:
            log("a busy neighbour keeps one core busy for the whole run")
        figures = _run_parts(args, size, reps, parts, log)
    load = os.getloadavg()
    print(f"# python -m bench {shlex.join(argv if argv is not None else sys.argv[1:])}")
    what = (
        f"{size.matters:,} matters, {size.activities:,} activities (seed {size.seed})"
        if any(part in SCALE_PARTS for part in parts)
        else f"seed {args.seed}"
    )
    print(
        f"# {what}; "
        f"{os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}; "
        + ("a busy neighbour (one core) ran throughout; " if neighbour else "no neighbour; ")
        + f"load average at the end {load[0]:.2f} {load[1]:.2f}; "
        f"took {time.monotonic() - started:.0f} s"
    )
    print()
    print(render(figures))
    return 0


def _run_parts(
    args: argparse.Namespace,
    size: data.Size,
    reps: int,
    parts: list[str],
    log: Callable[[str], None],
) -> list[Figure]:
    quick = args.quick
    figures: list[Figure] = []
    if any(part in SCALE_PARTS for part in parts):
        log(f"data: {size.folder}")
        data.ensure_firm(size, log)
    if "queries" in parts:
        from . import queries

        figures += _guarded("page-at-depth queries", lambda: queries.run(size, reps * 4, log))
    if "terminal" in parts:
        from . import tui

        dt_reps = args.datatable_reps or (2 if quick else 3)
        idle = args.idle if args.idle is not None else (3.0 if quick else 10.0)
        figures += _guarded(
            "terminal figures", lambda: tui.run(size, reps, min(dt_reps, reps), idle, log)
        )
    if "service" in parts:
        from . import service

        options = service.Options(
            reps=reps * (5 if quick else 8),
            bulk=args.bulk or (1_000 if quick else 10_000),
            concurrency=args.concurrency,
            duration=args.duration or (2.0 if quick else 5.0),
            rounds=3,
        )
        figures += _guarded("service figures", lambda: service.run(size, options, log))
    if "staff" in parts:
        from . import staff

        staff_options = staff.Options(
            duration=args.staff_duration or (10.0 if quick else 30.0),
            staff=args.staff,
            items=args.staff_items,
            shares=args.shares or (10_000 if quick else 100_000),
            pg_url=args.pg_url,
            seed=args.seed,
        )
        figures += _guarded("many-staff figures", lambda: staff.run(staff_options, log))
    if "import" in parts:
        from . import imports

        import_options = imports.Options(
            rows=args.import_rows or (10_000 if quick else 100_000), reps=min(reps, 3)
        )
        figures += _guarded("import figures", lambda: imports.run(import_options, log))
    return figures


def _guarded(what: str, run: Callable[[], list[Figure]]) -> list[Figure]:
    try:
        return run()
    except Exception as exc:  # one part failing must not hide the others' figures
        return [not_measured(what, "-", f"{type(exc).__name__}: {exc}")]
