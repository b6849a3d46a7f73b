"""What every staff API route does around its handler: the bearer token, the body size cap,
the Idempotency-Key of writes, errors as {"detail": "..."}, and the API version header.

It is a route class rather than middleware because the API is one router of an application
it does not own (the clients' pages share it): everything here applies to /api/v1 only.
"""

from __future__ import annotations

import hashlib
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

from ..config import ServiceConfig
from ..deps import config_of, db_of
from ..tokens import StaffIdentity, authenticate
from . import idempotency

API_VERSION = "1"
VERSION_HEADER = "X-Portal-API-Version"
REPLAYED_HEADER = "Idempotent-Replayed"
# JSON bodies are item metadata, never file content: 5 MB is far beyond any real one.
JSON_BODY_LIMIT = 5 * 1024 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PATH_COLUMN = 500  # IdempotencyRecord.path

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
BodyLimit = Callable[[ServiceConfig], int]


def raw_body_limit(limit: BodyLimit) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark an endpoint that takes raw bytes up to `limit(config)` instead of a JSON body."""

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.__dict__["portal_body_limit"] = limit
        return endpoint

    return mark


def error(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


class StaffRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        inner = super().get_route_handler()
        limit: BodyLimit | None = getattr(self.endpoint, "portal_body_limit", None)

        async def handler(request: Request) -> Response:
            response = await _handle(request, inner, limit)
            response.headers[VERSION_HEADER] = API_VERSION
            return response

        return handler


async def _handle(request: Request, inner: Handler, limit: BodyLimit | None) -> Response:
    db = db_of(request)
    identity = await _authenticate(request)
    if identity is None:
        return error(
            401,
            "A valid staff API token is needed: Authorization: Bearer <token> "
            "(portal-tui token create --staff LOGIN).",
            {"WWW-Authenticate": "Bearer"},
        )
    request.state.staff = identity
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

    try:
        outcome = await run_in_threadpool(
            idempotency.claim,
            db,
            identity.token_id,
            key,
            request.method,
            _target(request),
            idempotency.request_hash(body),
        )
    except HTTPException as exc:
        return _from_http_exception(exc)
    if isinstance(outcome, idempotency.Replay):
        return Response(
            outcome.body.encode("utf-8"),
            status_code=outcome.status_code,
            media_type=outcome.media_type,
            headers={REPLAYED_HEADER: "true"},
        )
    try:
        response = await _run(request, inner)
    except BaseException:
        # A bug (500) or a cancelled request: nothing was answered, so the key is freed for
        # the retry rather than left to look abandoned only minutes later. Shielded, or a
        # cancellation would cancel the release too.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(idempotency.release, db, outcome)
        raise
    body_bytes = bytes(response.body) if hasattr(response, "body") else b""
    await run_in_threadpool(
        idempotency.finish,
        db,
        outcome,
        response.status_code,
        response.media_type or "application/json",
        body_bytes,
    )
    return response


async def _authenticate(request: Request) -> StaffIdentity | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return await run_in_threadpool(authenticate, db_of(request), token.strip())


async def _run(request: Request, inner: Handler) -> Response:
    try:
        return await inner(request)
    except RequestValidationError as exc:
        return _from_validation_error(exc)
    except StarletteHTTPException as exc:
        return _from_http_exception(exc)


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
