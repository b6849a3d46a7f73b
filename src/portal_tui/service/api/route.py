"""What every staff API route does around its handler: the bearer token, the body size cap,
the Idempotency-Key of writes, errors as {"detail": "..."}, and the API version header.

It is a route class rather than middleware because the API is one router of an application
it does not own (the clients' pages share it): everything here applies to /api/v1 only.

A route marked `one_transaction` holds its Idempotency-Key in the handler's own transaction
(common.write_once) instead of a claim committed before it: one commit per request. Its token
is looked up here as for every route, but a token seen valid in the last IDENTITY_TTL_S is
taken from memory, and write_once checks in its transaction that it is still live.

Such a route may also have a fast path (`fast_path`) for its plain case, a valid JSON body:
it skips FastAPI's dependency solving, which costs about as much as the work itself. Anything
else it declines, and FastAPI handles the request as usual, with its usual answers.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from fastapi import HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Message

from portal_tui.database import Database

from ..config import ServiceConfig
from ..deps import config_of, db_of
from ..tokens import StaffIdentity, authenticate, hash_token
from . import binding, idempotency

API_VERSION = "1"
VERSION_HEADER = "X-Portal-API-Version"
REPLAYED_HEADER = "Idempotent-Replayed"
# JSON bodies are item metadata, never file content: 5 MB is far beyond any real one.
JSON_BODY_LIMIT = 5 * 1024 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PATH_COLUMN = 500  # IdempotencyRecord.path
# How long a staff token seen valid is trusted from memory by one-transaction routes, which
# check it again in their transaction anyway: it only spares them a read before the body.
IDENTITY_TTL_S = 5.0
_IDENTITIES_MAX = 1000
UNAUTHORIZED = (
    "A valid staff API token is needed: Authorization: Bearer <token> "
    "(portal-tui token create --staff LOGIN)."
)
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
BodyLimit = Callable[[ServiceConfig], int]
# (request, its JSON body parsed) -> the answer, or None to leave the request to FastAPI.
FastHandler = Callable[[Request, Any], Response | None]


def raw_body_limit(limit: BodyLimit) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an endpoint that takes raw bytes up to `limit(config)` instead of a JSON body."""

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.__dict__["portal_body_limit"] = limit
        return endpoint

    return mark


def one_transaction(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an endpoint that settles its Idempotency-Key itself, in its one transaction
    (through common.write_once)."""
    endpoint.__dict__["portal_one_transaction"] = True
    return endpoint


def fast_path(handler: FastHandler, endpoint: Callable[..., Any]) -> None:
    """Give a one-transaction endpoint a fast path (see the module's docstring)."""
    endpoint.__dict__["portal_fast_path"] = handler
    one_transaction(endpoint)


def error(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


class StaffRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        inner = super().get_route_handler()
        limit: BodyLimit | None = getattr(self.endpoint, "portal_body_limit", None)
        atomic: bool = getattr(self.endpoint, "portal_one_transaction", False)
        fast: FastHandler | None = getattr(self.endpoint, "portal_fast_path", None)

        async def handler(request: Request) -> Response:
            response = await _handle(request, inner, limit, atomic, fast)
            response.headers[VERSION_HEADER] = API_VERSION
            return response

        return handler


async def _handle(
    request: Request,
    inner: Handler,
    limit: BodyLimit | None,
    atomic: bool,
    fast: FastHandler | None,
) -> Response:
    db = db_of(request)
    identity = await _authenticate(request, remembered=atomic)
    if identity is None:
        return error(401, UNAUTHORIZED, UNAUTHORIZED_HEADERS)
    request.state.staff = identity
    if not binding.agreed(request):
        refused = await run_in_threadpool(binding.check, request, db)
        if refused is not None:
            return refused
    if request.method not in WRITE_METHODS:
        return await _run(request, inner)

    try:
        key = idempotency.check_key(request.headers.get(idempotency.HEADER))
    except HTTPException as exc:
        return _from_http_exception(exc)
    cap = limit(config_of(request)) if limit is not None else JSON_BODY_LIMIT
    body = await _read_body(request, cap)
    if isinstance(body, Response):
        return body
    request = _replaying(request, body)
    body_hash, payload = idempotency.fingerprint(body)

    if atomic:
        request.state.pending_key = idempotency.Pending(
            identity.token_id, key, request.method, _target(request), body_hash
        )
        request.state.key_settled = False
        # A bug (500) or a cancelled request rolls its transaction back, key and all.
        response = None
        if fast is not None and payload is not idempotency.NOT_JSON and _is_json(request):
            try:
                response = await run_in_threadpool(fast, request, payload)
            except StarletteHTTPException as exc:
                response = _from_http_exception(exc)
        if response is None:
            response = await _run(request, inner)
        if (
            request.state.key_settled
            or response.status_code == 401
            or not idempotency.storable(response.status_code)
        ):
            return response
        # Answered before its transaction began (an invalid body, say): the answer is kept
        # for replays, and a key already used for another request is refused, as for any
        # other write.
        return await _keep(request, db, identity, key, body_hash, response)

    outcome = await _claim(request, db, identity, key, body_hash)
    if isinstance(outcome, Response):
        return outcome
    try:
        response = await _run(request, inner)
    except BaseException:
        # A bug (500) or a cancelled request: nothing was answered, so the key is freed for
        # the retry rather than left to look abandoned only minutes later. Shielded, or a
        # cancellation would cancel the release too.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(idempotency.release, db, outcome)
        raise
    await _finish(db, outcome, response)
    return response


async def _claim(
    request: Request, db: Database, identity: StaffIdentity, key: str, body_hash: str
) -> idempotency.Claim | Response:
    """The key claimed for this request, or the answer instead: a replay, or a refusal."""
    try:
        outcome = await run_in_threadpool(
            idempotency.claim,
            db,
            identity.token_id,
            key,
            request.method,
            _target(request),
            body_hash,
        )
    except HTTPException as exc:
        return _from_http_exception(exc)
    if isinstance(outcome, idempotency.Replay):
        return replay_response(outcome)
    return outcome


async def _keep(
    request: Request,
    db: Database,
    identity: StaffIdentity,
    key: str,
    body_hash: str,
    response: Response,
) -> Response:
    outcome = await _claim(request, db, identity, key, body_hash)
    if isinstance(outcome, Response):
        return outcome
    await _finish(db, outcome, response)
    return response


async def _finish(db: Database, claimed: idempotency.Claim, response: Response) -> None:
    body_bytes = bytes(response.body) if hasattr(response, "body") else b""
    await run_in_threadpool(
        idempotency.finish,
        db,
        claimed,
        response.status_code,
        response.media_type or "application/json",
        body_bytes,
    )


def replay_response(replay: idempotency.Replay) -> Response:
    return Response(
        replay.body.encode("utf-8"),
        status_code=replay.status_code,
        media_type=replay.media_type,
        headers={REPLAYED_HEADER: "true"},
    )


async def _authenticate(request: Request, *, remembered: bool) -> StaffIdentity | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token = token.strip()
    if not remembered:
        return await run_in_threadpool(authenticate, db_of(request), token)
    known = _identities(request)
    digest = hash_token(token)
    hit = known.get(digest)
    if hit is not None and hit[1] > time.monotonic():
        return hit[0]
    identity = await run_in_threadpool(authenticate, db_of(request), token)
    if identity is None:
        known.pop(digest, None)
    else:
        if len(known) >= _IDENTITIES_MAX:
            known.clear()
        known[digest] = (identity, time.monotonic() + IDENTITY_TTL_S)
    return identity


def _identities(request: Request) -> dict[str, tuple[StaffIdentity, float]]:
    """Tokens seen valid lately, per application (so per database), by their hash."""
    state = request.app.state
    known: dict[str, tuple[StaffIdentity, float]] | None = getattr(
        state, "portal_staff_identities", None
    )
    if known is None:
        known = {}
        state.portal_staff_identities = known
    return known


def forget_identities(request: Request) -> None:
    """A remembered token turned out revoked: look every token up again."""
    _identities(request).clear()


async def _run(request: Request, inner: Handler) -> Response:
    try:
        return await inner(request)
    except RequestValidationError as exc:
        return _from_validation_error(exc)
    except StarletteHTTPException as exc:
        return _from_http_exception(exc)


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type == "application/json"


def _target(request: Request) -> str:
    """Method-independent identity of what the request addresses, as the key record keeps it."""
    query = "&".join(sorted(request.url.query.split("&"))) if request.url.query else ""
    target = f"{request.url.path}?{query}" if query else request.url.path
    if len(target) > _PATH_COLUMN:
        digest = hashlib.sha256(target.encode()).hexdigest()
        target = f"{target[: _PATH_COLUMN - 65]}#{digest}"
    return target


async def _read_body(request: Request, cap: int) -> bytes | Response:
    too_big = error(413, f"The request body is larger than the limit of {cap} bytes.")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            return error(400, "The Content-Length header is not a number.")
        if int(declared) > cap:
            return too_big
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                return too_big
            chunks.append(chunk)
    except ClientDisconnect:
        # Nobody is left to read the answer; it only keeps the log free of a false 500.
        return error(400, "The client went away before sending the whole body.")
    return b"".join(chunks)


def _replaying(request: Request, body: bytes) -> Request:
    """A request whose body is `body`, already read: the handler reads it again from here."""
    original = request.receive
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    replay = Request(request.scope, receive)
    return replay


def _from_http_exception(exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error(exc.status_code, detail, dict(exc.headers or {}))


def _from_validation_error(exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    for err in errors:
        if err.get("type") == "json_invalid":
            why = (err.get("ctx") or {}).get("error", "")
            return JSONResponse(
                {"detail": f"The request body is not valid JSON: {why}".rstrip(": ")},
                status_code=422,
            )
    shown = [_describe(err) for err in errors[:5]]
    if len(errors) > 5:
        shown.append(f"and {len(errors) - 5} more")
    return JSONResponse(
        {
            "detail": "Invalid request: " + "; ".join(shown),
            "errors": [
                {
                    "loc": [str(part) for part in err.get("loc", ())],
                    "msg": str(err.get("msg", "")),
                    "type": str(err.get("type", "")),
                }
                for err in errors
            ],
        },
        status_code=422,
    )


def _describe(err: Any) -> str:
    where = ".".join(str(part) for part in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid"))
