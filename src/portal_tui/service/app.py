"""The portal service as one ASGI application: the staff API, the clients' pages, the mailer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal_tui.database import Database
from portal_tui.domain.decision import Conflict, Unavailable

from .config import ServiceConfig
from .schema import ensure_service_schema

API_VERSION = "1"


def create_app(config: ServiceConfig) -> FastAPI:
    """Build the service; its database is opened (and brought up to date) at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(config.database_url, label="portal database")
        await asyncio.to_thread(ensure_service_schema, db)
        app.state.db = db
        background: list[asyncio.Task[None]] = []
        if config.send_mail:
            from .mail.sender import run_sender

            background.append(asyncio.create_task(run_sender(db, config)))
        if config.prune:
            from .pruning import run_pruner

            background.append(asyncio.create_task(run_pruner(db, config)))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            db.dispose()

    app = FastAPI(
        title="portal-tui portal service",
        version=API_VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.config = config

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "api_version": API_VERSION}

    from .api import router as api_router
    from .pages import router as pages_router
    from .pages.errors import Busy, NotFound
    from .pages.security import error_page, harden

    @app.exception_handler(StarletteHTTPException)
    async def not_a_route(request: Request, exc: StarletteHTTPException) -> Response:
        # A path no route matches (or a method no route takes) outside the staff API is a
        # client's browser: it gets the portal's own "not found" page, hardened like every
        # page, instead of a bare JSON answer without the security headers.
        if request.url.path.startswith("/api/") and exc.status_code == 405:
            from .api import allowed_methods

            headers = {**(exc.headers or {}), "Allow": allowed_methods(request.url.path)}
            exc = StarletteHTTPException(405, exc.detail, headers=headers)
        if request.url.path.startswith("/api/") or exc.status_code not in (404, 405):
            return await http_exception_handler(request, exc)
        return harden(error_page(request, NotFound()))

    @app.exception_handler(Unavailable)
    @app.exception_handler(Conflict)
    async def not_now(request: Request, exc: Exception) -> Response:
        # The database was away (restarting, locked, full) or another request crossed this
        # one: nothing was written, and the same request may simply be sent again.
        status = 409 if isinstance(exc, Conflict) else 503
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"detail": str(exc)}, status_code=status, headers={"Retry-After": "2"}
            )
        return harden(error_page(request, Busy()))

    from .api.version import VersionEveryAnswer
    from .incidents import Incidents

    app.add_middleware(Incidents)
    # Outside Incidents, so that its 500 under /api/ carries the API version too.
    app.add_middleware(VersionEveryAnswer)

    # The client pages first: they take most requests, and they step aside for /api/ at once.
    app.include_router(pages_router)
    app.include_router(api_router)

    from .api.openapi import tidy_document

    tidy_document(app, config)
    return app
