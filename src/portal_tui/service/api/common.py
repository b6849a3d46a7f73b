"""What the staff API's handlers share: dependencies, versioned-write transactions (with the
request's Idempotency-Key in the same transaction, for one-transaction routes), and the rule
that a body may repeat an id of the path only if it is the same."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.sqltypes import utcnow

from ..config import ServiceConfig
from ..deps import config_of, db_of
from ..models import PortalMatter
from . import binding, idempotency
from .auth import current_staff, named_firm
from .idempotency import RETRY_AFTER_SECONDS
from .route import (
    JSON_BODY_LIMIT,
    UNAUTHORIZED,
    UNAUTHORIZED_HEADERS,
    StaffRoute,
    forget_identities,
    replay_response,
)
from .schemas import ErrorOut

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
JSON = "application/json"

DB = Annotated[Database, Depends(db_of)]
Config = Annotated[ServiceConfig, Depends(config_of)]

# Two first writes of the same row can race on PostgreSQL (both see no row, both insert);
# the loser retries once the winner has committed, and then finds (and locks) the row.
WRITE_ATTEMPTS = 3

_FIRM_REFUSED = (
    "Another firm's request, or one from a copy of the firm's database older than a restore"
)
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "No Idempotency-Key, or a malformed request"},
    401: {"model": ErrorOut, "description": "No valid staff token"},
    409: {"model": ErrorOut, "description": "Not now: retry later with the same key"},
    413: {
        "model": ErrorOut,
        "description": f"The body is too large: JSON over {JSON_BODY_LIMIT} bytes (a size no "
        "JSON Schema can state), or a document's content over the upload limit",
    },
    421: {"model": ErrorOut, "description": _FIRM_REFUSED},
    422: {"model": ErrorOut, "description": "Invalid body, or the key reused for another body"},
}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Malformed firm headers"},
    401: ERRORS[401],
    409: {"model": ErrorOut, "description": "The firm restored a backup: its reset comes first"},
    421: ERRORS[421],
    422: {"model": ErrorOut, "description": "Invalid parameters"},
}
# A route about one contact of the portal, for a contact id it does not have.
NO_CONTACT: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such contact on the portal"}
}


def not_now(detail: str) -> HTTPException:
    """409: the request is fine but cannot be done yet (something it needs has not arrived,
    or a concurrent write won). Retry it with the same Idempotency-Key; the key is not used up."""
    return HTTPException(409, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def staff_router(*, names_firm: bool = True) -> APIRouter:
    """The routes of a module of the staff API; `names_firm`: the firm's headers are declared
    for every route (a module whose routes declare them themselves passes False)."""
    dependencies = [Depends(current_staff)]
    if names_firm:
        dependencies.append(Depends(named_firm))
    return APIRouter(route_class=StaffRoute, dependencies=dependencies)


def write(request: Request, db: Database, work: Callable[[Session], T], *, conflict: str) -> T:
    """Run `work` in one writing transaction, again if a concurrent insert beat it; the
    request's firm is checked again in it (binding.hold)."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            with db.write() as s:
                binding.hold(s, request)
                return work(s)
        except IntegrityError:
            if attempt == WRITE_ATTEMPTS - 1:
                raise not_now(conflict) from None
    raise AssertionError("unreachable")


def write_once(
    request: Request,
    db: Database,
    work: Callable[[Session], M],
    *,
    conflict: str,
    keep: Callable[[M], bool] = lambda _: True,
) -> Response:
    """Run `work` in one writing transaction together with the request's Idempotency-Key
    (route.one_transaction): the token checked, the key looked up (a replay answers what
    was stored), the work done and its answer stored, all in one commit. An answer that
    `keep` refuses is sent without being stored, so a retry with the key runs again."""
    pending: idempotency.Pending = request.state.pending_key

    def attempt(s: Session) -> Response:
        now = utcnow()
        try:
            found = idempotency.look_up_live(s, pending, now)
        except idempotency.TokenRevoked:
            forget_identities(request)
            raise HTTPException(401, UNAUTHORIZED, headers=UNAUTHORIZED_HEADERS) from None
        if isinstance(found, idempotency.Replay):
            return replay_response(found)
        binding.hold(s, request)
        answer = work(s)
        body = answer.model_dump_json()
        stored = (200, JSON, body) if keep(answer) else None
        idempotency.record(s, pending, found, now, stored)
        return Response(body.encode("utf-8"), media_type=JSON)

    for tries in range(WRITE_ATTEMPTS):
        try:
            response = _committed(db, attempt)
        except IntegrityError:
            if tries == WRITE_ATTEMPTS - 1:
                raise not_now(conflict) from None
            continue
        request.state.key_settled = True
        return response
    raise AssertionError("unreachable")


def _committed(db: Database, work: Callable[[Session], T]) -> T:
    """`work` in a writing transaction: on SQLite one shared with the other writes of this
    process waiting meanwhile (group commit), elsewhere its own."""
    if not db.is_sqlite:
        with db.write() as s:
            return work(s)
    with _COMMITTERS_LOCK:
        committer = _COMMITTERS.get(db)
        if committer is None:
            committer = _COMMITTERS[db] = _GroupCommit()
    return committer.run(db, work)


@dataclass(eq=False)
class _Job(Generic[T]):
    work: Callable[[Session], T]
    done: bool = False
    value: T | None = None
    error: BaseException | None = None


class _GroupCommit:
    """Writes of one SQLite database from this process's threads, committed together.

    SQLite has one writer at a time, and each commit costs more than a publish's statements;
    a writer that finds the file locked also sleeps in SQLite's busy handler (1, 2, 5, 10 ms
    ...) before it looks again. So the writes that arrive while a transaction is running wait
    here instead, and the next of them to wake runs them all in one transaction, each in a
    savepoint of its own: one that fails is rolled back alone and gets its own error, the
    others are committed. Other processes still meet the busy handler."""

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._waiting: list[_Job[Any]] = []
        self._running = False

    def run(self, db: Database, work: Callable[[Session], T]) -> T:
        job: _Job[T] = _Job(work)
        jobs: list[_Job[Any]] = []
        with self._turn:
            self._waiting.append(job)
            while self._running and not job.done:
                self._turn.wait()
            if not job.done:
                self._running = True
                jobs, self._waiting = self._waiting, []
        if jobs:
            try:
                _run_together(db, jobs)
            finally:
                with self._turn:
                    self._running = False
                    self._turn.notify_all()
        if job.error is not None:
            raise job.error
        return cast(T, job.value)


def _run_together(db: Database, jobs: list[_Job[Any]]) -> None:
    try:
        with db.write() as s:
            if len(jobs) == 1:
                jobs[0].value = jobs[0].work(s)
            else:
                for job in jobs:
                    try:
                        with s.begin_nested():
                            job.value = job.work(s)
                    except Exception as exc:  # this write's own answer; the others go on
                        job.error = exc
    except BaseException as exc:
        # Not committed: none of them happened.
        for job in jobs:
            if job.error is None:
                job.value, job.error = None, exc
    finally:
        for job in jobs:
            job.done = True


_COMMITTERS: weakref.WeakKeyDictionary[Database, _GroupCommit] = weakref.WeakKeyDictionary()
_COMMITTERS_LOCK = threading.Lock()


def same_as_path(name: str, in_path: object, in_body: object) -> None:
    if in_body is not None and in_body != in_path:
        raise HTTPException(
            422, f"The body's {name} ({in_body}) is not the one in the path ({in_path})."
        )


def known_matter(s: Session, matter_id: int) -> PortalMatter:
    matter = s.get(PortalMatter, matter_id)
    if matter is None:
        raise matter_not_here(matter_id)
    return matter


def matter_not_here(matter_id: int) -> HTTPException:
    return not_now(
        f"Matter {matter_id} is not on the portal yet: send PUT /api/v1/matters/{matter_id} "
        "first, then retry."
    )


def matter_or_placeholder(s: Session, matter_id: int) -> PortalMatter:
    """The matter, or a stand-in with version 0 and the portal off until the firm sends it:
    for writes that must not wait on the matter (a revoke's tombstone, notice recipients)."""
    matter = s.get(PortalMatter, matter_id)
    if matter is None:
        matter = PortalMatter(
            id=matter_id,
            number="",
            name="",
            enabled=False,
            permissions=[],
            notify=[],
            version=0,
            notify_version=0,
        )
        s.add(matter)
        s.flush()
    return matter
