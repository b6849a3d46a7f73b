"""The many-staff benchmarks: several staff processes sharing and unsharing on one firm, each
with its own relay, against one portal service (on each engine, 4 staff beside 1); and the
size of the tables that grow with every share, with and without pruning (bench/tables.py).

A staff user is `python -m bench.staff_actor` (bench/staff_actor.py): a real OS process with
the user's repository and the app's relay in it. The service is `portal-tui serve` (one
process, SQLite) with a token from `portal-tui token create`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from . import data, engines, small_firm, tables
from .engines import Engine
from .results import INFO, MET, MISSED, Figure, Samples, figure, ms, not_measured, p95
from .service import Relay, Service, drain, running

STAFF_ROOT = data.DATA_ROOT / "staff"
READY_TIMEOUT = 120.0
SETTLE_TIMEOUT = 120.0  # each staff process waits this long, at most, for the last deliveries


@dataclass
class Options:
    duration: float  # seconds each staff process shares and unshares
    staff: int  # staff processes of the subject (the baseline has one)
    items: int  # items of the firm, all of them shared and unshared at random
    shares: int  # share and unshare operations of the table-size benchmark
    pg_url: str | None
    seed: int = 1


@dataclass
class StaffRun:
    """What one run (n staff processes on one engine) measured."""

    staff: int
    ops: int = 0
    elapsed: float = 0.0
    icon: Samples = field(default_factory=Samples)
    call: Samples = field(default_factory=Samples)
    undelivered: int = 0
    unmatched: int = 0
    doubled_outbox: int = 0
    doubled_portal: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    items: int = 0
    agree: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    unsettled: int = 0  # staff processes whose relays had not delivered everything in time

    @property
    def rate(self) -> float:
        return self.ops / self.elapsed if self.elapsed else 0.0

    @property
    def doubled(self) -> int:
        return self.doubled_outbox + self.doubled_portal


def run(options: Options, log: data.Log) -> list[Figure]:
    figures: list[Figure] = []
    found = engines.engines(options.pg_url)
    for engine in found:
        if engine is None:
            figures += [
                not_measured(name, target, engines.NO_PG)
                for name, target in _names("PostgreSQL", options.staff)
            ]
            continue
        figures += _guarded(
            f"{engine.label}, {options.staff} staff", partial(_many_staff, engine, options, log)
        )
    for engine in found:
        if engine is None:
            figures.append(
                not_measured(tables.title("PostgreSQL", options.shares), "-", engines.NO_PG)
            )
            continue
        figures += _guarded(
            tables.title(engine.label, options.shares),
            partial(tables.run, engine, options.shares, log),
        )
    return figures


def _guarded(what: str, work: Callable[[], list[Figure]]) -> list[Figure]:
    try:
        return work()
    except Exception as exc:  # one engine failing must not hide the other's figures
        return [not_measured(what, "-", f"{type(exc).__name__}: {exc}")]


# One run -----------------------------------------------------------------------------------------


def _many_staff(engine: Engine, options: Options, log: data.Log) -> list[Figure]:
    # The baseline first, then the subject: each on a firm and a portal of its own.
    single = _staff_run(engine, 1, options, log)
    many = _staff_run(engine, options.staff, options, log)
    return _figures(engine.label, many, single, options)


def _staff_run(engine: Engine, staff: int, options: Options, log: data.Log) -> StaffRun:
    from portal_tui.repository import Repository

    folder = STAFF_ROOT / f"{engine.label.lower()}-{staff}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    out = StaffRun(staff)
    with engines.database(engine, folder, "firm") as url:
        firm = small_firm.build(
            url, staff=staff, clients=2, matters_per_client=2, items=options.items
        )
        service = Service(folder, folder / "portal.db", workers=1)
        with running(service):
            system = Repository.open(url)
            try:
                identity = system.firm_identity()
                # The matters and their invitations reach the portal before anyone shares.
                relay = Relay(system, service.base, service.token, firm=identity)
                try:
                    drain(system, relay, timeout=120)
                finally:
                    relay.stop()
                log(
                    f"staff: {engine.label}, {staff} staff process(es), "
                    f"{options.duration:.0f} s on {len(firm.items)} items"
                )
                results = _act(firm, service, staff, options)
                relay = Relay(system, service.base, service.token, firm=identity)
                try:
                    drain(system, relay, timeout=300)  # the final drain
                finally:
                    relay.stop()
                _collect(out, results, system, service, firm)
            finally:
                system.close()
    log(
        f"  {out.ops} operations, {out.rate:.1f}/s; "
        f"refusals {dict(out.refusals)}; errors {sum(out.errors.values())}; "
        f"doubled {out.doubled}; portal == firm on {out.agree} of {out.items}"
    )
    return out


def _act(
    firm: small_firm.SmallFirm, service: Service, staff: int, options: Options
) -> list[dict[str, Any]]:
    """The staff processes: started, set up (each waits with its relay running), told to go
    at once, and their reports read."""
    items = [[kind.value, item_id] for kind, item_id in firm.items]
    procs: list[subprocess.Popen[str]] = []
    errs = []
    try:
        for login in firm.logins[:staff]:
            cfg = {
                "url": firm.url,
                "login": login,
                "items": items,
                "duration": options.duration,
                "seed": options.seed,
                "base": service.base,
                "token": service.token,
                "settle_timeout": SETTLE_TIMEOUT,
            }
            # Error output to a file: a pipe nobody reads would block the process once full.
            err = service.root / f"{login}.err"
            errs.append(err)
            with err.open("w") as stderr:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "bench.staff_actor", json.dumps(cfg)],
                        cwd=data.REPO_ROOT,
                        env=data.clean_env(service.root),
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=stderr,
                        text=True,
                    )
                )
        for proc, err in zip(procs, errs, strict=True):
            line = _readline(proc, err, READY_TIMEOUT)
            if line.strip() != "ready":
                raise RuntimeError(f"a staff process did not start: {line!r}")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc, err in zip(procs, errs, strict=True):
            stdout, _ = proc.communicate(timeout=options.duration + SETTLE_TIMEOUT + 60)
            if proc.returncode != 0:
                raise RuntimeError(f"a staff process failed: {err.read_text()[-2000:]}")
            results.append(json.loads(stdout.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def _readline(proc: subprocess.Popen[str], err: Path, timeout: float) -> str:
    """The next line a child writes, or its error output if it exits first."""
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise RuntimeError(f"a staff process said nothing within {timeout:.0f} s")
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        raise RuntimeError(f"a staff process exited: {err.read_text()[-2000:]}")
    return line


def _collect(
    out: StaffRun,
    results: list[dict[str, Any]],
    system: Any,
    service: Service,
    firm: small_firm.SmallFirm,
) -> None:
    from sqlalchemy import func, select

    from portal_tui.domain.states import OutboxOp
    from portal_tui.store.models import AuditEntry, OutboxEntry, ShareMark

    for r in results:
        out.ops += len(r["actions"])
        out.refusals.update(r["refusals"])
        out.errors.update(r["errors"])
        out.problems.update(r["problems"])
        out.unsettled += 0 if r["settled"] else 1
    # The processes acted side by side: operations per second over the time they all acted.
    out.elapsed = sum(r["elapsed"] for r in results) / len(results)
    logins = [r["login"] for r in results]
    with system.db.read() as s:
        # Each process is one staff user, acting one command at a time: its n-th command on
        # an item is its n-th audit entry on that item, which names the version it made.
        versions: dict[tuple[str, str, int], list[int]] = defaultdict(list)
        for actor, kind, item_id, after in s.execute(
            select(AuditEntry.actor, AuditEntry.kind, AuditEntry.item_id, AuditEntry.after)
            .where(AuditEntry.actor.in_(logins), AuditEntry.action.in_(["share", "unshare"]))
            .order_by(AuditEntry.id)
        ):
            versions[(actor, kind, int(item_id))].append(int((after or {})["version"]))
        delivered = {
            (kind, int(item_id), int(version)): at
            for kind, item_id, version, at in s.execute(
                select(
                    OutboxEntry.kind,
                    OutboxEntry.item_id,
                    OutboxEntry.version,
                    OutboxEntry.delivered_at,
                ).where(OutboxEntry.op.in_([OutboxOp.PUBLISH, OutboxOp.REVOKE]))
            )
        }
        out.doubled_outbox = len(
            s.execute(
                select(OutboxEntry.kind, OutboxEntry.item_id, OutboxEntry.version)
                .where(OutboxEntry.op.in_([OutboxOp.PUBLISH, OutboxOp.REVOKE]))
                .group_by(OutboxEntry.kind, OutboxEntry.item_id, OutboxEntry.version)
                .having(func.count() > 1)
            ).all()
        )
        wanted = {
            (kind.value, int(item_id)): bool(w)
            for kind, item_id, w in s.execute(
                select(ShareMark.kind, ShareMark.item_id, ShareMark.wanted)
            )
        }
    for r in results:
        seen: Counter[tuple[str, int]] = Counter()
        for kind, item_id, _op, wall, call in r["actions"]:
            out.call.add(call)
            n = seen[(kind, item_id)]
            seen[(kind, item_id)] += 1
            made = versions.get((r["login"], kind, item_id), [])
            if n >= len(made):
                out.unmatched += 1
                continue
            at = delivered.get((kind, item_id, made[n]))
            if at is None:
                out.undelivered += 1
                continue
            out.icon.add(at.timestamp() - wall)
    portal, out.doubled_portal = _portal_state(service.url)
    out.items = len(firm.items)
    out.agree = sum(
        1
        for kind, item_id in firm.items
        if portal.get((kind.value, item_id), False) == wanted.get((kind.value, item_id), False)
    )


def _portal_state(url: str) -> tuple[dict[tuple[str, int], bool], int]:
    """What the portal holds of each item (published or not), and how many (kind, item,
    version) it applied more than once: every answer it stored for an Idempotency-Key (single
    publishes and revokes, and each result of a batch) says whether it applied one."""
    from sqlalchemy import select

    from portal_tui.database import Database
    from portal_tui.service.models import IdempotencyRecord, PortalItem

    db = Database(url)
    try:
        with db.read() as s:
            published = {
                (kind, int(item_id)): bool(p)
                for kind, item_id, p in s.execute(
                    select(PortalItem.kind, PortalItem.item_id, PortalItem.published)
                )
            }
            applied: Counter[tuple[str, int, int]] = Counter()
            for path, response in s.execute(
                select(IdempotencyRecord.path, IdempotencyRecord.response).where(
                    IdempotencyRecord.status_code == 200
                )
            ):
                if "/items" in path:
                    applied.update(_applied(response))
    finally:
        db.dispose()
    return published, sum(1 for n in applied.values() if n > 1)


def _applied(response: dict[str, Any] | None) -> list[tuple[str, int, int]]:
    """The (kind, item, version) a stored answer of the items API says it applied: a single
    publish or revoke (`applied`), or each result of a batch (`result` "applied")."""
    try:
        body = json.loads((response or {}).get("body") or "{}")
    except (TypeError, ValueError):
        return []
    if not isinstance(body, dict):
        return []
    if "results" in body:
        return [
            (str(r["item"]["kind"]), int(r["item"]["item_id"]), int(r["item"]["version"]))
            for r in body["results"]
            if r.get("result") == "applied" and r.get("item")
        ]
    if body.get("applied") is True:
        return [(str(body["kind"]), int(body["item_id"]), int(body["version"]))]
    return []


# The table ---------------------------------------------------------------------------------------


def _names(label: str, staff: int) -> list[tuple[str, str]]:
    head = f"{label}, {staff} staff"
    return [
        (f"{head}: operations per second", "-"),
        (f"{head}: action to icon", "-"),
        (f"{head}: doubled rows", "0"),
        (f"{head}: refusals", "-"),
        (f"{head}: errors", "0"),
        (f"{head}: portal == firm at the end", "every item"),
    ]


def _figures(label: str, many: StaffRun, single: StaffRun, options: Options) -> list[Figure]:
    (rate, icon, doubled, refusals, errors, agree) = _names(label, options.staff)
    base = "1 staff"

    def both_met(ok: bool, ok_single: bool) -> str:
        return MET if ok and ok_single else MISSED

    icon_note = (
        "from the share/unshare call until the outbox row of the version it made is "
        "delivered (its delivered_at); the call itself: "
        + (f"p95 {ms(p95(many.call.values))}" if many.call else "n/a")
        + f" ({base}: "
        + (f"p95 {ms(p95(single.call.values))}" if single.call else "n/a")
        + ")"
    )
    missing = many.undelivered + many.unmatched + single.undelivered + single.unmatched
    if missing:
        icon_note += f"; {missing} actions without a delivered row"
    problems = many.problems + single.problems
    relay_note = (f"; relays reported: {dict(problems.most_common(3))}" if problems else "") + (
        f"; {many.unsettled + single.unsettled} staff processes still had rows pending "
        f"after {SETTLE_TIMEOUT:.0f} s"
        if many.unsettled + single.unsettled
        else ""
    )
    return [
        Figure(
            rate[0],
            rate[1],
            measured=f"{many.rate:.1f}/s n={many.ops} in {many.elapsed:.0f} s",
            baseline=f"{single.rate:.1f}/s ({base})",
            ratio=f"{many.rate / single.rate:.2f}x" if single.rate else "-",
            verdict=INFO,
            note=f"successful shares and unshares of {options.items} items by all "
            f"{options.staff} processes together, each with its own relay{relay_note}",
        ),
        figure(
            icon[0],
            icon[1],
            many.icon,
            show=ms,
            baseline=single.icon,
            baseline_stat="p95",
            note=icon_note,
        ),
        Figure(
            doubled[0],
            doubled[1],
            measured=f"{many.doubled} (outbox {many.doubled_outbox}, portal {many.doubled_portal})",
            baseline=f"{single.doubled} ({base})",
            verdict=both_met(many.doubled == 0, single.doubled == 0),
            note="(kind, item, version) in more than one outbox row, or applied more than "
            "once by the portal (its stored answers to each Idempotency-Key)",
        ),
        Figure(
            refusals[0],
            refusals[1],
            measured=_counted(many.refusals),
            baseline=f"{_counted(single.refusals)} ({base})",
            verdict=INFO,
            note="domain refusals (Refused, Conflict, Unavailable): another user's share "
            "crossed this one, said to the user",
        ),
        Figure(
            errors[0],
            errors[1],
            measured=_counted(many.errors),
            baseline=f"{_counted(single.errors)} ({base})",
            verdict=both_met(not many.errors, not single.errors),
            note=(
                "any exception other than a refusal: "
                + "; ".join(f"{k} x{v}" for k, v in (many.errors + single.errors).most_common(3))
            )
            if many.errors or single.errors
            else "any exception other than a refusal",
        ),
        Figure(
            agree[0],
            agree[1],
            measured=f"{many.agree} of {many.items} items",
            baseline=f"{single.agree} of {single.items} ({base})",
            verdict=both_met(many.agree == many.items, single.agree == single.items),
            note="after a final drain, the portal's published equals the firm's mark wanted",
        ),
    ]


def _counted(counts: Counter[str]) -> str:
    total = sum(counts.values())
    if not total:
        return "0"
    if len(counts) == 1 and len(next(iter(counts))) < 20:
        return f"{total} ({next(iter(counts))})"
    parts = ", ".join(f"{k} {v}" for k, v in counts.most_common() if len(k) < 20)
    return f"{total} ({parts})" if parts else str(total)
