"""Item 5 of the portal issue on the client pages: sessions, cookies, CSRF, log-in limits,
response headers, downloads, upload limits and escaping."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from portal_tui.domain.kinds import ItemKind
from portal_tui.service.app import create_app
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import (
    Account,
    ClientMessage,
    ClientSession,
    ClientUpload,
    FormSubmission,
    LoginFailure,
)
from portal_tui.sqltypes import utcnow

from .conftest import (
    ANN,
    GOOD_ANSWERS,
    INVITE_CAT,
    MATTER_A,
    PASSWORD,
    SHOWN,
    Browser,
    Portal,
    Scene,
    build_scene,
    marker,
    sha256,
    task_data,
)

A = f"/m/{MATTER_A}"
UPLOAD_LIMIT = 4096


@pytest.fixture
def service_config(tmp_path: Path) -> ServiceConfig:
    # Small limits, so the limits themselves can be reached quickly.
    return ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'portal.db'}",
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,
        upload_limit_bytes=UPLOAD_LIMIT,
        login_limit_per_account=3,
        login_limit_per_address=5,
    )


def log_in(
    portal: Portal, email: str = "ann@example.com", password: str = PASSWORD, **extra: str
) -> Any:
    return portal.anonymous().post_prelogin(
        "/login", {"email": email, "password": password, **extra}
    )


def session_cookie(response: Any) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith("portal_session="):
            return str(header.split(";", 1)[0].split("=", 1)[1])
    raise AssertionError("no session cookie set")


def count(portal: Portal, model: Any) -> int:
    with portal.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# Sessions and cookies -------------------------------------------------------------------------


def test_session_cookie_is_httponly_samesite_and_not_readable_in_the_database(
    portal: Portal, scene: Scene
) -> None:
    response = log_in(portal)
    assert response.status_code == 303
    header = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("portal_session=")
    )
    flags = {part.strip().lower() for part in header.split(";")[1:]}
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert "secure" not in flags  # plain http here; see the https test below
    raw = session_cookie(response)
    with portal.db.read() as s:
        hashes = list(s.scalars(select(ClientSession.id_hash)))
    assert hashes == [sha256(raw)]  # only the hash is kept


def test_session_cookie_is_secure_and_host_prefixed_over_https(tmp_path: Path) -> None:
    config = ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'https.db'}",
        data_dir=tmp_path / "data",
        base_url="https://portal.example",
        send_mail=False,
        prune=False,
    )
    with TestClient(create_app(config), base_url="https://portal.example") as client:
        portal = Portal(db=client.app.state.db, client=client, config=config)  # type: ignore[attr-defined]
        build_scene(portal)
        login_page = client.get("/login")
        csrf_header = login_page.headers["set-cookie"]
        assert csrf_header.startswith("__Host-portal_csrf=")
        assert "secure" in csrf_header.lower()
        token = csrf_header.split(";", 1)[0].split("=", 1)[1]
        client.cookies.clear()
        response = client.post(
            "/login",
            data={"csrf": token, "email": "ann@example.com", "password": PASSWORD},
            headers={"Cookie": f"__Host-portal_csrf={token}"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        session = next(
            h
            for h in response.headers.get_list("set-cookie")
            if h.startswith("__Host-portal_session=")
        )
        flags = {part.strip().lower() for part in session.split(";")[1:]}
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags


def test_log_in_starts_a_new_session_and_ends_the_old_one(portal: Portal, scene: Scene) -> None:
    before = portal.as_user(ANN)
    old = before.cookies["portal_session"]
    response = before.post_prelogin("/login", {"email": "ann@example.com", "password": PASSWORD})
    new = session_cookie(response)
    assert new != old
    assert before.get(f"{A}/").status_code == 303  # the old id is gone
    assert Browser(portal, {"portal_session": new}, None).get(f"{A}/").status_code == 200


def _age_session(portal: Portal, browser: Browser, **ago: timedelta) -> None:
    now = utcnow()
    with portal.db.write() as s:
        s.execute(
            update(ClientSession)
            .where(ClientSession.id_hash == sha256(browser.cookies["portal_session"]))
            .values({k: now - v for k, v in ago.items()})
        )


def test_idle_session_times_out(portal: Portal, scene: Scene, ann: Browser) -> None:
    idle = portal.config.session_idle_seconds
    _age_session(portal, ann, last_seen_at=timedelta(seconds=idle - 120))
    assert ann.get(f"{A}/").status_code == 200  # still inside the idle time
    _age_session(portal, ann, last_seen_at=timedelta(seconds=idle + 1))
    response = ann.get(f"{A}/invoices")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={A}/invoices"
    assert count(portal, ClientSession) == 0


def test_absolute_session_lifetime_ends_even_an_active_session(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    life = portal.config.session_absolute_seconds
    _age_session(portal, ann, created_at=timedelta(seconds=life + 1), last_seen_at=timedelta(0))
    assert ann.get(f"{A}/").status_code == 303
    assert count(portal, ClientSession) == 0


def test_request_keeps_an_idle_session_alive(portal: Portal, scene: Scene, ann: Browser) -> None:
    _age_session(portal, ann, last_seen_at=timedelta(minutes=5))
    ann.get(f"{A}/")
    with portal.db.read() as s:
        seen = s.scalar(select(ClientSession.last_seen_at))
    assert seen is not None and utcnow() - seen < timedelta(minutes=1)


def test_logout_ends_the_session(portal: Portal, scene: Scene, ann: Browser) -> None:
    response = ann.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?out=1"
    cleared = next(h for h in response.headers.get_list("set-cookie") if "portal_session=" in h)
    assert "max-age=0" in cleared.lower()
    assert count(portal, ClientSession) == 0
    assert ann.get(f"{A}/").status_code == 303


# CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "not-the-token"], ids=["missing", "empty", "wrong"])
def test_csrf_refused_posts_change_nothing(
    portal: Portal, scene: Scene, ann: Browser, token: str | None
) -> None:
    def form(fields: dict[str, str]) -> dict[str, str]:
        return fields if token is None else {**fields, "csrf": token}

    # The browser's own token must not slip in: send the forms raw.
    raw = Browser(portal, ann.cookies, None)
    posts = [
        raw.post(f"{A}/messages", form({"body": "forged"})),
        raw.post(f"{A}/forms/{SHOWN[ItemKind.FORM]}", form(GOOD_ANSWERS)),
        raw.upload(f"{A}/documents", "forged.pdf", b"forged", csrf=token or ""),
        raw.post("/logout", form({})),
    ]
    for response in posts:
        assert response.status_code == 403, response.request.url
        assert "This form has expired" in response.text
    assert count(portal, ClientMessage) == 0
    assert count(portal, FormSubmission) == 0
    assert count(portal, ClientUpload) == 0
    assert ann.get(f"{A}/").status_code == 200  # the forged log-out did not end the session


def test_prelogin_forms_need_the_double_submit_cookie(portal: Portal, scene: Scene) -> None:
    anonymous = portal.anonymous()
    login = {"email": "ann@example.com", "password": PASSWORD}
    # No cookie, a field: refused. A cookie and another field: refused.
    assert anonymous.post("/login", {**login, "csrf": "x" * 43}).status_code == 403
    mismatch = anonymous.post(
        "/login", {**login, "csrf": "x" * 43}, cookies={"portal_csrf": "y" * 43}
    )
    assert mismatch.status_code == 403
    invite = anonymous.post(
        f"/invite/{INVITE_CAT}", {"password": PASSWORD, "confirm": PASSWORD, "csrf": "z" * 43}
    )
    assert invite.status_code == 403
    assert count(portal, ClientSession) == 0
    with portal.db.read() as s:
        assert (
            s.scalar(select(Account.password_hash).where(Account.email == "cat@example.com"))
            is None
        )


def test_login_page_sets_the_double_submit_cookie_it_renders(portal: Portal, scene: Scene) -> None:
    page = portal.anonymous().get("/login")
    header = page.headers["set-cookie"]
    assert header.startswith("portal_csrf=")
    assert "httponly" in header.lower() and "samesite=lax" in header.lower()
    token = header.split(";", 1)[0].split("=", 1)[1]
    assert f'name="csrf" value="{token}"' in page.text


# Log-in limits ----------------------------------------------------------------------------------


def test_login_limit_per_account_gives_429_even_for_the_right_password(
    portal: Portal, scene: Scene
) -> None:
    for _ in range(portal.config.login_limit_per_account):
        failed = log_in(portal, password="a wrong guess")
        assert failed.status_code == 200
        assert "We could not log you in" in failed.text
    blocked = log_in(portal)  # the right password, checked too late to matter
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed log-in attempts" in blocked.text
    assert count(portal, ClientSession) == 0
    # Once the window has passed, the account may log in again.
    with portal.db.write() as s:
        s.execute(update(LoginFailure).values(at=utcnow() - timedelta(days=1)))
    assert log_in(portal).status_code == 303


def test_login_limit_per_address_covers_many_accounts(portal: Portal, scene: Scene) -> None:
    for i in range(portal.config.login_limit_per_address):
        assert log_in(portal, email=f"nobody{i}@example.com").status_code == 200
    assert log_in(portal).status_code == 429
    assert count(portal, ClientSession) == 0


def test_login_failure_does_not_tell_whether_the_email_exists(portal: Portal, scene: Scene) -> None:
    answers = [
        log_in(portal, email="nobody@example.com"),  # no such account
        log_in(portal, password="a wrong guess"),  # a wrong password
        log_in(portal, email="cat@example.com"),  # invited, no password yet
    ]
    errors = {re.search(r'<p class="error"[^>]*>(.*?)</p>', r.text, re.S).group(1) for r in answers}  # type: ignore[union-attr]
    assert all(r.status_code == 200 for r in answers)
    assert len(errors) == 1
    assert "We could not log you in" in errors.pop()


def test_login_next_is_never_an_open_redirect(portal: Portal, scene: Scene) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = log_in(portal, next=target)
        assert response.status_code == 303
        assert response.headers["location"] == "/"
    assert log_in(portal, next=f"{A}/notes").headers["location"] == f"{A}/notes"


# Headers, downloads, escaping --------------------------------------------------------------------


def test_pages_carry_nosniff_csp_and_no_store(portal: Portal, scene: Scene, ann: Browser) -> None:
    urls = [
        f"{A}/",
        f"{A}/invoices",
        f"{A}/invoices/{SHOWN[ItemKind.INVOICE]}",
        f"{A}/calendar",
        f"{A}/tasks",
        f"{A}/notes",
        f"{A}/documents",
        f"{A}/messages",
        f"{A}/forms/{SHOWN[ItemKind.FORM]}",
        "/matters",
        f"{A}/invoices/999",  # the 404 page too
    ]
    for url in urls:
        response = ann.get(url)
        assert response.status_code in (200, 404), url
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", url
        csp = headers["content-security-policy"]
        for directive in ("default-src 'self'", "form-action 'self'", "frame-ancestors 'none'"):
            assert directive in csp, (url, directive)
        assert "unsafe-inline" not in csp
        assert "no-store" in headers["cache-control"], url
        assert headers["referrer-policy"] == "same-origin"  # no Referer to another site
        # No inline script or style for the policy to have to allow.
        assert "<script" not in response.text.replace("&lt;script", "")
        assert " style=" not in response.text
    anonymous = portal.anonymous().get("/login")
    assert anonymous.headers["cache-control"] == "no-store"
    assert anonymous.headers["x-content-type-options"] == "nosniff"


def test_downloads_are_attachments(portal: Portal, scene: Scene, ann: Browser) -> None:
    for url, media in (
        (f"{A}/invoices/{SHOWN[ItemKind.INVOICE]}.pdf", "application/pdf"),
        (f"{A}/documents/{SHOWN[ItemKind.DOCUMENT]}", "application/pdf"),
        (f"{A}/calendar.ics", "text/calendar"),
    ):
        response = ann.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-disposition"].startswith("attachment;"), url
        assert response.headers["content-type"].startswith(media)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "no-store" in response.headers["cache-control"]
        assert "sandbox" in response.headers["content-security-policy"]


def test_download_name_is_quoted_safely(portal: Portal, scene: Scene, ann: Browser) -> None:
    portal.item(
        ItemKind.DOCUMENT,
        900,
        matter_id=MATTER_A,
        data={"name": 'Ré "quoted"\r\nX-Evil: 1.pdf', "content_type": "text/html", "size": 3},
    )
    portal.blob(900, b"<b>")
    response = ann.get(f"{A}/documents/900")
    disposition = response.headers["content-disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert 'filename="Re _quoted___X-Evil_ 1.pdf"' in disposition
    assert "filename*=UTF-8''R%C3%A9%20%22quoted%22%0D%0AX-Evil%3A%201.pdf" in disposition
    assert "x-evil" not in response.headers


def test_oversize_upload_is_413_and_stores_nothing(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    response = ann.upload(f"{A}/documents", "big.pdf", b"x" * (UPLOAD_LIMIT + 1))
    assert response.status_code == 413
    assert "too large" in response.text
    assert count(portal, ClientUpload) == 0
    exactly = ann.upload(f"{A}/documents", "fits.pdf", b"x" * UPLOAD_LIMIT)
    assert exactly.status_code == 303
    assert count(portal, ClientUpload) == 1


def test_oversize_upload_without_length_is_cut_off_while_reading(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    boundary = "xyzBOUNDARYxyz"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{ann.csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        # Streamed, so no Content-Length announces the size: only counting can catch it.
        yield head
        for _ in range(64):  # 64 KiB chunks, far past the limit
            yield b"y" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = ann._send(
        "POST",
        f"{A}/documents",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert count(portal, ClientUpload) == 0


def test_declared_oversize_upload_is_refused_before_reading(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    """Content-Length over the limit: 413 without a single body message received."""
    app = portal.client.app
    received: list[object] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        received.append(1)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    cookie = f"portal_session={ann.cookies['portal_session']}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{A}/documents",
        "raw_path": f"{A}/documents".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"cookie", cookie.encode()),
            (b"content-type", b"multipart/form-data; boundary=abc"),
            (b"content-length", str(10 * 1024 * 1024 * 1024).encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    assert received == []


def test_empty_upload_is_refused(portal: Portal, scene: Scene, ann: Browser) -> None:
    empty = ann.upload(f"{A}/documents", "empty.pdf", b"")
    assert empty.status_code == 400
    assert "The file is empty" in empty.text
    none_chosen = ann.upload(f"{A}/documents", "", b"")
    assert none_chosen.status_code == 400
    assert "Choose a file" in none_chosen.text
    assert count(portal, ClientUpload) == 0


def test_client_and_firm_data_are_escaped(portal: Portal, scene: Scene, ann: Browser) -> None:
    portal.item(ItemKind.TASK, 500, matter_id=MATTER_A, data=task_data("<script>alert(1)</script>"))
    portal.item(
        ItemKind.FORM,
        501,
        matter_id=MATTER_A,
        data={"name": '"><img src=x onerror=alert(2)>', "description": "", "fields": []},
    )
    with portal.db.write() as s:
        s.execute(update(Account).where(Account.id == ANN).values(name="Smith [Deceased]"))
    for url in (f"{A}/", f"{A}/tasks"):
        text = ann.get(url).text
        assert "<script>alert(1)</script>" not in text
        assert "<img src=x" not in text
        assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in text
        assert "Smith [Deceased]" in text  # shown as written
        assert "Estate of Smith [Deceased]" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ann.get(f"{A}/tasks").text


def test_unknown_or_foreign_ids_are_404_pages_never_403(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    for url in (
        "/m/999/",
        f"{A}/invoices/{SHOWN[ItemKind.INVOICE] + 1}",  # not published
        f"{A}/invoices/{SHOWN[ItemKind.INVOICE] + 100}",  # matter B's
        f"{A}/forms/{SHOWN[ItemKind.TASK]}",  # an id of another kind
        f"{A}/documents/{SHOWN[ItemKind.DOCUMENT] + 1}",
    ):
        response = ann.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.text
        assert marker(ItemKind.INVOICE, "bobs") not in response.text


def test_unknown_page_paths_get_the_hardened_not_found_page(client: TestClient) -> None:
    for path in ("/m/1/nope", "/no-such-page"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert "text/html" in answer.headers["content-type"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code in (401, 404)
    assert api.headers["content-type"].startswith("application/json")
