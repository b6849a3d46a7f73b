"""The login limits count by the client's address, so no request may claim another: a real
`portal-tui serve` reads X-Forwarded-For only from the reverse proxies `forwarded_allow_ips`
names — by default none, not even loopback (uvicorn's own default trusts 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.service.models import LoginFailure

from ..delivery.support import Service, clean_env, csrf_of

SPOOFED = "203.0.113.7"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[Path, list[Service]]]:
    started: list[Service] = []
    yield tmp_path, started
    for service in started:
        service.stop()


def _failed_login_from(service: Service) -> set[str]:
    with httpx.Client(base_url=service.base) as browser:
        page = browser.get("/login")
        token = csrf_of(page.text)
        response = browser.post(
            "/login",
            data={"csrf": token, "email": "nobody@example.test", "password": "wrong"},
            headers={"X-Forwarded-For": SPOOFED, "Origin": service.base},
        )
        assert response.status_code in (200, 401), response.text
    db = Database(service.database_url)
    try:
        with db.read() as s:
            return {key for key in s.scalars(select(LoginFailure.key)) if key.startswith("addr:")}
    finally:
        db.dispose()


def test_x_forwarded_for_is_ignored_unless_its_proxy_is_configured(
    serve: tuple[Path, list[Service]],
) -> None:
    root, started = serve
    plain = Service(clean_env(root / "plain"), root / "plain")
    started.append(plain)
    plain.start()
    assert _failed_login_from(plain) == {"addr:127.0.0.1"}

    env = {**clean_env(root / "proxied"), "PORTAL_TUI_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    proxied = Service(env, root / "proxied")
    started.append(proxied)
    proxied.start()
    assert _failed_login_from(proxied) == {f"addr:{SPOOFED}"}
