"""The programs the concurrency tests run as OS processes of their own, each a staff member's
app (or part of one) on the firm database: `python children.py PROGRAM 'JSON arguments'`.

Each writes what it did to the JSON file named `result`: its outcomes, and every exception as
its type, module and message (a traceback too, for anything but the domain's own refusals), so
the test can tell a clear refusal from a driver's error. Only the standard library and
portal_tui are imported: the file is run by path, not as part of the test package.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.domain import ItemKind
from portal_tui.domain.decision import Refused
from portal_tui.repository import Repository
from portal_tui.repository.portal_client import PortalClient
from portal_tui.repository.share_rows import ItemModel
from portal_tui.repository.sharing import SharingService
from portal_tui.repository.worker import run_pass

Key = tuple[ItemKind, int]
PAUSE_S = 0.01


def described(exc: BaseException) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": type(exc).__name__,
        "module": type(exc).__module__,
        "message": str(exc),
    }
    if not isinstance(exc, Refused):
        found["traceback"] = traceback.format_exc()
    return found


def attempt(do: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"ok": str(do())}
    except Exception as exc:
        return {"error": described(exc)}


def write_result(path: str, value: object) -> None:
    """Atomically, so the test never reads half a file."""
    part = Path(f"{path}.part")
    part.write_text(json.dumps(value, indent=1), encoding="utf-8")
    os.replace(part, path)


def wait_for_file(path: Path, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.001)


def start_line(folder: Path, name: str, parties: int, *, timeout: float = 60.0) -> None:
    """Wait here until `parties` processes have arrived in `folder`, then all go at once
    (within a millisecond or so of each other)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).touch()
    deadline = time.monotonic() + timeout
    while sum(1 for _ in folder.iterdir()) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only some of {parties} processes reached {folder}")
        time.sleep(0.0002)


def key_of(item: list[Any]) -> Key:
    return ItemKind(item[0]), int(item[1])


def staff_repo(url: str, login: str) -> Repository:
    repo = Repository(Database(url), login)
    repo.ping()  # the connection made and the actor looked up before anything is timed
    assert repo.actor.login == login
    return repo


# stepped: one share or unshare, stopped at a chosen point ---------------------------------------


def stepped(
    url: str, login: str, op: str, item: list[Any], folder: str, step: str, result: str
) -> None:
    """`op` of `item`, with a test-only wrapper around the repository's lock of the item
    (`SharingService.lock`, replaced in this process only). `step` "hold": once the lock is
    taken, say so (this transaction's backend pid in folder/holding) and wait for
    folder/release before going on. "announce": say which backend is about to take the lock
    (folder/waiting) before taking it."""
    where = Path(folder)
    repo = staff_repo(url, login)
    locking = SharingService.lock

    def wrapped(self: SharingService, s: Session, kind: ItemKind, item_id: int) -> ItemModel:
        pid = str(s.scalar(text("SELECT pg_backend_pid()")))
        if step == "announce":
            (where / "waiting").write_text(pid)
        obj = locking(self, s, kind, item_id)
        if step == "hold":
            (where / "holding").write_text(pid)
            wait_for_file(where / "release")
        return obj

    SharingService.lock = wrapped  # type: ignore[method-assign]  # this process only
    kind, item_id = key_of(item)
    command = repo.share if op == "share" else repo.unshare
    write_result(result, attempt(lambda: command(kind, item_id)))


# first-share: two processes share the same items at the same moment -----------------------------


def first_share(url: str, login: str, items: list[list[Any]], folder: str, result: str) -> None:
    """For each item in turn: meet the other process at a start line, then share it."""
    repo = staff_repo(url, login)
    outcomes = []
    for n, item in enumerate(items):
        kind, item_id = key_of(item)
        start_line(Path(folder) / str(n), login, 2)
        outcomes.append(attempt(partial(repo.share, kind, item_id)))
    write_result(result, outcomes)


# staff: a staff member sharing and unsharing at random, with the app's own relay beside -------


def _relay(
    repo: Repository, client: PortalClient, stop: threading.Event, found: dict[str, list[Any]]
) -> None:
    """The app's delivery worker, as DeliveryWorker runs it, but keeping every exception."""
    while not stop.is_set():
        try:
            report = run_pass(repo, client, stopping=stop.is_set)
        except Exception as exc:
            found["relay_errors"].append(described(exc))
        else:
            found["passes"].append(report.delivered)
            if report.problem:
                found["relay_problems"].append(report.problem)
        stop.wait(0.1)


def _one_change(repo: Repository, rng: random.Random, items: list[Key], done: list[Any]) -> None:
    """One share or unshare of a random item (the opposite of what it reads), or now and then
    a bulk of two or three items; each change made goes on `done`."""
    if rng.random() < 0.25:
        chosen = rng.sample(items, rng.randint(2, 3))
        share = rng.random() < 0.5
        _, refused = repo.share_many(chosen, share=share)
        left_out = {(kind, item_id) for kind, item_id, _ in refused}
        op = "share" if share else "unshare"
        done.extend([op, k.value, i] for k, i in chosen if (k, i) not in left_out)
        return
    kind, item_id = rng.choice(items)
    if repo.share_state(kind, item_id).wanted:
        repo.unshare(kind, item_id)
        done.append(["unshare", kind.value, item_id])
    else:
        repo.share(kind, item_id)
        done.append(["share", kind.value, item_id])


def staff(
    url: str,
    login: str,
    seconds: float,
    items: list[list[Any]],
    portal: str,
    token: str,
    seed: int,
    result: str,
) -> None:
    repo = staff_repo(url, login)
    client = PortalClient(
        portal, token, document_content=repo.document_content, firm=repo.firm_identity()
    )
    keys = [key_of(item) for item in items]
    found: dict[str, list[Any]] = {
        "done": [],
        "errors": [],
        "relay_errors": [],
        "relay_problems": [],
        "passes": [],
    }
    stop = threading.Event()
    relay = threading.Thread(target=_relay, args=(repo, client, stop, found), daemon=True)
    relay.start()
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                _one_change(repo, rng, keys, found["done"])
            except Exception as exc:
                found["errors"].append(described(exc))
            # Up to a few milliseconds between changes: still far busier than any staff
            # member, and the relays get a turn at the database to deliver meanwhile.
            time.sleep(rng.uniform(0, PAUSE_S))
    finally:
        stop.set()
        relay.join(60)
        client.close()
        write_result(result, found)


# churn: bulk shares and unshares without a pause, until told to stop --------------------------


def churn(url: str, login: str, items: list[list[Any]], stop: str, result: str) -> None:
    """Share all of `items` in one bulk, unshare them all in the next, and so on: outbox rows
    faster than any relay delivers them."""
    repo = staff_repo(url, login)
    keys = [key_of(item) for item in items]
    changes, errors = 0, []
    (Path(stop).parent / f"{login}.started").touch()
    share = True
    while not Path(stop).exists():
        try:
            done, _ = repo.share_many(keys, share=share)
            changes += done
        except Exception as exc:
            errors.append(described(exc))
        share = not share
    write_result(result, {"changes": changes, "errors": errors})


PROGRAMS: dict[str, Callable[..., None]] = {
    "stepped": stepped,
    "first-share": first_share,
    "staff": staff,
    "churn": churn,
}

if __name__ == "__main__":
    PROGRAMS[sys.argv[1]](**json.loads(sys.argv[2]))
