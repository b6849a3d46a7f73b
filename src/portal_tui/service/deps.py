"""What route handlers share: the service's database and configuration."""

from __future__ import annotations

from fastapi import Request

from portal_tui.database import Database

from .config import ServiceConfig


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def config_of(request: Request) -> ServiceConfig:
    config: ServiceConfig = request.app.state.config
    return config
