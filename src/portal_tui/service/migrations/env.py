"""Alembic environment of the portal database: runs on the connection that
`portal_tui.migrating` hands over (see `portal_tui.service.schema`).

There is no alembic.ini: the app builds the Config itself (`migrating.alembic_config`) and
passes its already-open writer connection in `config.attributes["connection"]`, so the upgrade
runs inside the caller's transaction and under the caller's migration lock.

This folder is deliberately not a Python package (no __init__.py): Alembic loads env.py and the
revisions by path, and a package here would let anything that imports every module of
`portal_tui.service` run this file outside Alembic.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine, pool

from portal_tui.service.models import Base
from portal_tui.service.schema import PORTAL_SCHEMA
from portal_tui.sqltypes import UTCDateTime

config = context.config
target_metadata = Base.metadata
VERSION_TABLE = PORTAL_SCHEMA.version_table


def _render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    # A revision must not import app code that may change after it is written: UTCDateTime
    # only converts values in Python, and in the database it is its plain impl.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_name(name: str | None, type_: str, _parents: Any) -> bool:
    # The portal's tables may share a PostgreSQL database with the firm's: autogenerate must
    # not offer to drop tables it does not own. The price: a model deleted from models.py
    # needs its drop_table written by hand.
    return type_ != "table" or name in target_metadata.tables


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things in place; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_name=_include_name,
    )


def run_migrations_offline() -> None:
    """`--sql` mode: emit the DDL as text for a DBA instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Only developer tooling gets here (an ad-hoc Config with sqlalchemy.url set).
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection in config.attributes and no sqlalchemy.url set")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as own_connection:
            _configure(own_connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
