"""The body of an Alembic env.py, shared by the firm database and the portal's.

There is no alembic.ini: the app builds the Config itself (`migrating.alembic_config`) and
passes its already-open writer connection in `config.attributes["connection"]`, so an upgrade
runs inside the caller's transaction and under the caller's migration lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, MetaData, create_engine, pool

from portal_tui.sqltypes import UTCDateTime


def _render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    # A revision must not import app code that may change after it is written: UTCDateTime
    # only converts values in Python, and in the database it is its plain impl.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(
    target_metadata: MetaData,
    *,
    version_table: str = "alembic_version",
    own_tables_only: bool,
    hand_made: Callable[[str], bool] = lambda _name: False,
) -> None:
    """Run the migrations Alembic asked for, online or (`--sql`) offline.

    `own_tables_only`: the schema may share a PostgreSQL database with another one, so
    autogenerate must not offer to drop tables it does not own. The price: a model deleted
    from models.py needs its drop_table written by hand. `hand_made`: tables a revision made
    by hand and no model describes (SQLite's search indexes), left out of autogenerate.
    """
    config = context.config

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        if type_ != "table" or name is None:
            return True
        if hand_made(name):
            return False
        return not own_tables_only or name in target_metadata.tables

    def configure(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=version_table,
            # SQLite cannot ALTER most things in place; batch mode recreates the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=_render_item,
            include_name=include_name,
        )

    if context.is_offline_mode():
        # `--sql` mode: emit the DDL as text for a DBA instead of running it.
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=target_metadata,
            version_table=version_table,
            literal_binds=True,
            dialect_opts={"paramstyle": "named"},
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    connection = config.attributes.get("connection")
    if connection is not None:
        configure(connection)
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
            configure(own_connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()
