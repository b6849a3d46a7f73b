"""A server error never resets the connection nor shows a bare "Internal Server Error": a
real `portal-tui serve` with a fault put in answers a client with the portal's own 500 page,
and the staff API with an RFC 9457 problem, each naming an incident id that the service log
holds beside the traceback; the next request on the same keep-alive connection is served."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..delivery.support import Service, clean_env

FAULT = """
from portal_tui.service import feed
from portal_tui.service.pages import csrf

def _broken(*args, **kwargs):
    raise RuntimeError("a fault put in by the test")

csrf.prelogin_token = _broken
feed.read_changes = _broken
"""


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[Service]:
    service = Service(clean_env(tmp_path), tmp_path, prelude=FAULT)
    service.start()
    try:
        yield service
    finally:
        service.stop()


def _log(service: Service) -> str:
    return (service.root / f"serve-{service.starts}.err").read_text()


def test_a_client_gets_the_portals_page_with_an_incident_id(faulty: Service) -> None:
    with httpx.Client(base_url=faulty.base) as browser:
        broken = browser.get("/login")
        assert broken.status_code == 500
        assert broken.headers["content-type"].startswith("text/html")
        assert "Internal Server Error" not in broken.text
        found = re.search(r"tell your firm this reference: ([0-9a-f]{12})", broken.text)
        assert found, broken.text
        assert broken.headers["x-content-type-options"] == "nosniff"  # hardened as any page
        # The same connection serves the next request.
        assert browser.get("/healthz").status_code == 200
    log = _log(faulty)
    assert f"incident {found[1]}: GET /login failed" in log
    assert "RuntimeError: a fault put in by the test" in log


def test_the_staff_api_gets_a_problem_with_the_same_id_as_the_log(faulty: Service) -> None:
    with httpx.Client(
        base_url=faulty.base, headers={"Authorization": f"Bearer {faulty.token}"}
    ) as api:
        broken = api.get("/api/v1/changes")
        assert broken.status_code == 500
        assert broken.headers["content-type"] == "application/problem+json"
        assert broken.headers["X-Portal-API-Version"] == "1"  # a portal service's answer
        body = broken.json()
        assert (body["type"], body["title"], body["status"]) == (
            "about:blank",
            "Internal Server Error",
            500,
        )
        assert body["instance"] == f"urn:portal-tui:incident:{body['incident']}"
        assert api.get("/healthz").status_code == 200
    assert f"incident {body['incident']}: GET /api/v1/changes failed" in _log(faulty)
