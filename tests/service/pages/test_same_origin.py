"""State-changing client requests come from the portal's own pages: besides the CSRF token,
a post whose Origin (or, without one, Referer) is another site is refused with the expired-
form page, and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from portal_tui.service.models import ClientMessage

from .conftest import MATTER_A, Browser, Portal, Scene

A = f"/m/{MATTER_A}"


def _replies(portal: Portal) -> int:
    with portal.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(ClientMessage)) or 0)


def _reply(ann: Browser, **headers: str) -> int:
    return ann.post(f"{A}/messages", {"body": "Hello"}, headers=headers).status_code


def test_a_post_from_another_site_is_refused(portal: Portal, scene: Scene, ann: Browser) -> None:
    before = _replies(portal)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://testserver.evil.example"},
    ):
        assert _reply(ann, **headers) == 403, headers
    assert _replies(portal) == before


def test_a_post_from_the_portals_own_pages_goes_through(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    before = _replies(portal)
    assert _reply(ann, Origin="http://testserver") == 303
    assert _reply(ann, Referer=f"http://testserver{A}/messages") == 303
    assert _reply(ann) == 303  # neither header (stripped by a privacy tool): the token decides
    assert _replies(portal) == before + 3


def test_a_login_from_another_site_is_refused(portal: Portal, scene: Scene) -> None:
    anonymous = portal.anonymous()
    anonymous.headers["Origin"] = "https://evil.example"
    login = anonymous.post_prelogin("/login", {"email": "ann@example.com", "password": "x"})
    assert login.status_code == 403
