"""Schemathesis over the staff API's OpenAPI document: whatever it sends, never a 5xx."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from portal_tui.database import Database
from portal_tui.service.app import create_app
from portal_tui.service.config import ServiceConfig
from portal_tui.service.schema import ensure_service_schema
from portal_tui.service.tokens import create_token

MAX_EXAMPLES = 20


@pytest.fixture
def staff_token_and_app(tmp_path: Path) -> tuple[str, ServiceConfig]:
    config = ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'portal.db'}",
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,
        upload_limit_bytes=64 * 1024,
    )
    db = Database(config.database_url)
    try:
        ensure_service_schema(db)
        token = create_token(db, "schemathesis")
    finally:
        db.dispose()
    return token, config


@pytest.fixture
def api_schema(staff_token_and_app: tuple[str, ServiceConfig]) -> schemathesis.BaseSchema:
    _, config = staff_token_and_app
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(config)).include(
        path_regex="^/api/v1/"
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_staff_api_never_answers_5xx(
    case: schemathesis.Case, staff_token_and_app: tuple[str, ServiceConfig]
) -> None:
    token, _ = staff_token_and_app
    # A fresh key per case: the generated ones may repeat, which would only test replays.
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    case.call_and_validate(headers=headers, checks=[not_a_server_error])
