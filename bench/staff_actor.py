"""One staff user of the many-staff benchmark, in a process of its own, run as
`python -m bench.staff_actor '<json>'` by bench/staff.py.

Like the app: the user's repository, and the app's relay beside it (DeliveryWorker on the
system actor, with housekeeping, pointed at the portal service by PortalClient, naming the
firm), woken after each action. Once set up it prints `ready` and waits for a line on stdin;
then it shares and unshares random items of the firm for the given seconds, waits (relay
still running) until nothing is pending, and prints what it did as one JSON line."""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any


def main(argv: Sequence[str]) -> int:
    from portal_tui.config import DEFAULT_KEEP_DAYS
    from portal_tui.database import Database
    from portal_tui.domain import ItemKind
    from portal_tui.domain.decision import Refused
    from portal_tui.repository import Repository
    from portal_tui.repository.portal_client import PortalClient
    from portal_tui.repository.worker import DeliveryWorker, Housekeeping, PassReport

    cfg: dict[str, Any] = json.loads(argv[0])
    items = [(ItemKind(kind), int(item_id)) for kind, item_id in cfg["items"]]
    db = Database(cfg["url"])
    repo = Repository(db, cfg["login"])
    system = Repository(db, None)  # the relay acts as the system, as in the app
    problems: Counter[str] = Counter()

    def passed(report: PassReport) -> None:
        if report.problem:
            problems[report.problem[:200]] += 1

    client = PortalClient(
        cfg["base"],
        cfg["token"],
        document_content=system.document_content,
        firm=system.firm_identity(),
    )
    worker = DeliveryWorker(
        system,
        client,
        on_pass=passed,
        housekeeping=Housekeeping(system, DEFAULT_KEEP_DAYS["keep_outbox_days"]),
    )
    worker.start()
    print("ready", flush=True)
    sys.stdin.readline()

    rng = random.Random(f"{cfg['seed']}-{cfg['login']}")
    actions: list[tuple[str, int, str, float, float]] = []
    refusals: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    began = time.perf_counter()
    stop = began + float(cfg["duration"])
    while time.perf_counter() < stop:
        kind, item_id = rng.choice(items)
        op = "?"
        try:
            # What the list shows decides the action, as a user's key does; the clock starts
            # at the command itself.
            op = "unshare" if repo.share_state(kind, item_id).wanted else "share"
            wall, started = time.time(), time.perf_counter()
            if op == "share":
                repo.share(kind, item_id)
            else:
                repo.unshare(kind, item_id)
            actions.append((kind.value, item_id, op, wall, time.perf_counter() - started))
        except Refused as exc:  # Conflict, Unavailable, "already shared" …: said to the user
            refusals[type(exc).__name__] += 1
        except Exception as exc:  # anything else is a bug, reported as such
            errors[f"{op}: {type(exc).__name__}: {str(exc)[:200]}"] += 1
        worker.wake()
    elapsed = time.perf_counter() - began

    # The relays go on until everything is delivered, as the apps would.
    settled = False
    deadline = time.monotonic() + float(cfg["settle_timeout"])
    while time.monotonic() < deadline:
        worker.wake()
        try:
            if system.pending_deliveries() == 0:
                settled = True
                break
        except Refused:
            pass
        time.sleep(0.1)
    worker.stop()
    db.dispose()
    print(
        json.dumps(
            {
                "login": cfg["login"],
                "actions": actions,
                "elapsed": elapsed,
                "refusals": refusals,
                "errors": errors,
                "settled": settled,
                "problems": problems,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
