"""P3 and S7 for the whole app: every route of the running service — the client pages, the
staff API under /api/v1 (the hidden catch-all for unknown item kinds included) and the public
routes — against the eight actors of actors.py: anonymous, the matter's active contact, the
same contact after an unshare, a disabled contact, a removed contact, a client of another
matter, a staff token and a revoked token.

The route list comes from the app itself, so a route without a row here (or in the client
pages' MATRIX) fails `test_p3_s7_every_route_of_the_app_has_a_row`.

- Client pages: pages/test_authorization_matrix.py (only the active contact sees anything).
- Staff API: only a live staff token gets in. Everyone else — nobody, every client with a
  session cookie, a revoked token — gets a 401 JSON answer that holds none of the portal's
  data, and nothing at all changes in the portal's database (not even an Idempotency-Key
  is used up). A live token gets the operation's normal answer: 2xx, or the 4xx its input
  deserves; never 401, 403 or 5xx.
- Public: /healthz (a readiness probe for the process manager) and /openapi.json (the staff
  API's description, which lists no client page) hold no client or firm data and answer
  everyone the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from portal_tui.database import Database
from portal_tui.domain.kinds import ItemKind
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import Base, ClientUpload, PortalItem

from .actors import (
    CLIENT_SESSION,
    Actor,
    ActorBrowser,
    browser_for,
    route_keys,
    secrets_for,
    set_world,
)
from .api.conftest import contact_body, firm_body, matter_body
from .pages.conftest import (
    CONTACT_ANN_A,
    CONTACT_BOB_B,
    CONTACT_CAT_A,
    DATA_OF,
    MATTER_A,
    MATTER_B,
    SHOWN,
    Portal,
    build_scene,
)
from .pages.test_authorization_matrix import MATRIX as PAGE_MATRIX

UPLOAD_ID = 501
UPLOAD_SECRET = "UPLOAD-OF-BOB-SECRET"
NEW_ITEM = 900  # items the staff rows publish: new to the portal


@pytest.fixture
def world(client: TestClient, service_db: Database, service_config: ServiceConfig) -> Portal:
    """The usual scene, and one client upload (on Bob's matter) for the API to hand out."""
    portal = Portal(db=service_db, client=client, config=service_config)
    build_scene(portal)
    with portal.db.write() as s:
        s.add(
            ClientUpload(
                id=UPLOAD_ID,
                matter_id=MATTER_B,
                contact_id=CONTACT_BOB_B,
                name="bank statement.pdf",
                content_type="application/pdf",
                size=len(UPLOAD_SECRET),
                sha256="0" * 64,
                content=UPLOAD_SECRET.encode(),
            )
        )
    return portal


# The public routes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicRow:
    call: Callable[[ActorBrowser], httpx.Response]
    check: Callable[[httpx.Response], bool]


def _openapi_lists_only_the_api(response: httpx.Response) -> bool:
    paths = response.json()["paths"]
    return bool(paths) and all(path.startswith("/api/v1/") for path in paths)


PUBLIC: dict[tuple[str, str], PublicRow] = {
    ("GET", "/healthz"): PublicRow(
        lambda b: b.get("/healthz"), lambda r: r.json()["status"] == "ok"
    ),
    ("GET", "/openapi.json"): PublicRow(
        lambda b: b.get("/openapi.json"), _openapi_lists_only_the_api
    ),
    ("HEAD", "/openapi.json"): PublicRow(
        lambda b: b._send("HEAD", "/openapi.json"), lambda r: r.content == b""
    ),
}


# The staff API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiRow:
    """One staff API route: how to call it, and what a live staff token gets (the statuses
    of every other actor are the same for all routes: 401)."""

    call: Callable[[ActorBrowser], httpx.Response]
    staff: int = 200


def publish(kind: ItemKind) -> ApiRow:
    item_id = NEW_ITEM + SHOWN[kind]
    body = {
        "matter_id": MATTER_A,
        "version": 1,
        "batch": "matrix-batch",
        "data": DATA_OF[kind](f"new {kind.value}"),
    }
    return ApiRow(lambda b: b.api("PUT", f"/items/{kind.value}/{item_id}", json=body))


def revoke_new(kind: ItemKind) -> ApiRow:
    params = {"version": 2, "matter_id": MATTER_A}
    return ApiRow(lambda b: b.api("DELETE", f"/items/{kind.value}/{NEW_ITEM + 100}", params=params))


def read_shown(kind: ItemKind) -> ApiRow:
    return ApiRow(lambda b: b.api("GET", f"/items/{kind.value}/{SHOWN[kind]}"))


NOTE = SHOWN[ItemKind.NOTE]
NEW_NOTE = {"matter_id": MATTER_A, "version": 1, "data": DATA_OF[ItemKind.NOTE]("batched note")}
DOCUMENT = SHOWN[ItemKind.DOCUMENT]

API_MATRIX: dict[tuple[str, str], ApiRow] = {
    ("PUT", "/api/v1/firm"): ApiRow(lambda b: b.api("PUT", "/firm", json=firm_body(version=5))),
    ("PUT", "/api/v1/matters/{matter_id}"): ApiRow(
        lambda b: b.api(
            "PUT",
            f"/matters/{MATTER_A}",
            json=matter_body(MATTER_A, version=5, permissions=firm_body()["permissions"]),
        )
    ),
    ("PUT", "/api/v1/matters/{matter_id}/notify"): ApiRow(
        lambda b: b.api(
            "PUT",
            f"/matters/{MATTER_A}/notify",
            json={
                "notify": [{"login": "vera", "name": "Vera Vale", "email": "vera@hv.example"}],
                "version": 5,
            },
        )
    ),
    **{("PUT", f"/api/v1/items/{kind.value}/{{item_id}}"): publish(kind) for kind in ItemKind},
    # The note shown is revoked (as the batch below does too); of every other kind, an item
    # the portal never had gets its tombstone, so the shown ones stay for the other rows.
    **{
        ("DELETE", f"/api/v1/items/{kind.value}/{{item_id}}"): revoke_new(kind)
        for kind in ItemKind
        if kind is not ItemKind.NOTE
    },
    ("DELETE", "/api/v1/items/note/{item_id}"): ApiRow(
        lambda b: b.api("DELETE", f"/items/note/{NOTE}", params={"version": 2})
    ),
    **{("GET", f"/api/v1/items/{kind.value}/{{item_id}}"): read_shown(kind) for kind in ItemKind},
    # No such kind: the hidden catch-all answers what the kinds are.
    ("PUT", "/api/v1/items/{kind}/{item_id}"): ApiRow(
        lambda b: b.api(
            "PUT", "/items/widget/5", json={"matter_id": MATTER_A, "version": 1, "data": {}}
        ),
        staff=422,
    ),
    ("DELETE", "/api/v1/items/{kind}/{item_id}"): ApiRow(
        lambda b: b.api("DELETE", "/items/widget/5", params={"version": 2}), staff=422
    ),
    ("GET", "/api/v1/items/{kind}/{item_id}"): ApiRow(
        lambda b: b.api("GET", "/items/widget/5"), staff=422
    ),
    # Many at once: a new note published and another one revoked.
    ("POST", "/api/v1/items/batch"): ApiRow(
        lambda b: b.api(
            "POST",
            "/items/batch",
            json={
                "operations": [
                    {"op": "publish", "kind": "note", "item_id": NEW_ITEM + 50, **NEW_NOTE},
                    {"op": "revoke", "kind": "note", "item_id": NOTE, "version": 3},
                ]
            },
        )
    ),
    ("PUT", "/api/v1/items/document/{item_id}/content"): ApiRow(
        lambda b: b.api(
            "PUT",
            f"/items/document/{DOCUMENT}/content",
            params={"version": 1},
            content=b"%PDF-1.4 a newer engagement letter",
            headers={"Content-Type": "application/octet-stream"},
        )
    ),
    # The invoice shown names no PDF of its own: bytes for it are refused (409), none taken.
    ("PUT", "/api/v1/items/invoice/{item_id}/content"): ApiRow(
        lambda b: b.api(
            "PUT",
            f"/items/invoice/{SHOWN[ItemKind.INVOICE]}/content",
            params={"version": 1},
            content=b"%PDF-1.4 an invoice the copy does not name",
            headers={"Content-Type": "application/octet-stream"},
        ),
        staff=409,
    ),
    ("GET", "/api/v1/firm/binding"): ApiRow(lambda b: b.api("GET", "/firm/binding")),
    # Without the firm's id and epoch a reset is refused: nothing is withdrawn.
    ("POST", "/api/v1/firm/reset"): ApiRow(
        lambda b: b.api("POST", "/firm/reset", json={"epoch": 2, "contacts": []}), staff=422
    ),
    # A new contact (client 30) invited to matter A.
    ("PUT", "/api/v1/contacts/{contact_id}"): ApiRow(
        lambda b: b.api(
            "PUT",
            "/contacts/300",
            json=contact_body(contact_id=300, matter_id=MATTER_A, client_id=30),
        )
    ),
    # Cat's sign-ins (she has none yet), and signing her out everywhere: staff only.
    ("GET", "/api/v1/contacts/{contact_id}/security"): ApiRow(
        lambda b: b.api("GET", f"/contacts/{CONTACT_CAT_A}/security")
    ),
    ("POST", "/api/v1/contacts/{contact_id}/sign-out"): ApiRow(
        lambda b: b.api("POST", f"/contacts/{CONTACT_CAT_A}/sign-out")
    ),
    # Ann's contact on matter A: no second factor on, so nothing to reset (and no email).
    ("POST", "/api/v1/contacts/{contact_id}/two-factor/reset"): ApiRow(
        lambda b: b.api("POST", f"/contacts/{CONTACT_ANN_A}/two-factor/reset")
    ),
    ("POST", "/api/v1/batches/{batch}/notify"): ApiRow(
        lambda b: b.api("POST", "/batches/matrix-batch/notify")
    ),
    ("GET", "/api/v1/changes"): ApiRow(lambda b: b.api("GET", "/changes")),
    ("GET", "/api/v1/uploads/{upload_id}/content"): ApiRow(
        lambda b: b.api("GET", f"/uploads/{UPLOAD_ID}/content")
    ),
}


def test_p3_s7_every_route_of_the_app_has_a_row(world: Portal) -> None:
    routes = route_keys(world)
    api = {key for key in routes if key[1].startswith("/api/")}
    assert api, "no staff API routes found"
    assert routes - api - PUBLIC.keys(), "no client page routes found"
    expected = {
        "staff API": (api, API_MATRIX.keys()),
        "public": (routes & PUBLIC.keys(), PUBLIC.keys()),
        "client pages": (routes - api - PUBLIC.keys(), PAGE_MATRIX.keys()),
    }
    problems = []
    for part, (found, rows) in expected.items():
        if missing := sorted(found - rows):
            problems.append(f"{part} routes without a row in the authorization matrix: {missing}")
        if stale := sorted(rows - found):
            problems.append(f"{part} matrix rows for routes that do not exist: {stale}")
    assert not problems, "\n".join(problems)


def database_state(db: Database) -> dict[str, list[str]]:
    """Every row of every table of the portal's database."""
    with db.read() as s:
        return {
            table.name: sorted(repr(tuple(row)) for row in s.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def check_api(browser: ActorBrowser, actor: Actor, key: tuple[str, str], row: ApiRow) -> list[str]:
    response = row.call(browser)
    where = f"  {key[0]} {key[1]}: "
    problems: list[str] = []
    status = response.status_code
    if status == 403 or status >= 500:
        problems.append(f"{where}must never answer {status}")
    if response.headers.get("X-Portal-API-Version") != "1":
        problems.append(f"{where}no X-Portal-API-Version header")
    if actor is Actor.STAFF_TOKEN:
        if status != row.staff:
            problems.append(f"{where}got {status}, expected {row.staff}: {response.text[:200]}")
        elif key[1].endswith("/content") and key[0] == "GET":
            if response.content != UPLOAD_SECRET.encode():
                problems.append(f"{where}does not hand out the upload's bytes")
        elif status < 300 and response.json().get("applied") is False:
            problems.append(f"{where}a write meant to apply was not applied")
        return problems
    if status != 401:
        problems.append(f"{where}got {status}, expected 401: {response.text[:200]}")
        return problems
    if not response.headers.get("content-type", "").startswith("application/json"):
        problems.append(f"{where}a 401 that is not JSON")
    elif "staff API token" not in response.json().get("detail", ""):
        problems.append(f"{where}a 401 without its explanation: {response.text[:200]}")
    if response.headers.get("WWW-Authenticate") != "Bearer":
        problems.append(f"{where}a 401 without WWW-Authenticate: Bearer")
    body = response.content.decode("latin-1")
    for secret in [*secrets_for(actor), UPLOAD_SECRET, "Estate of Smith"]:
        if secret in body:
            problems.append(f"{where}leaks {secret!r}")
    return problems


@pytest.mark.parametrize("actor", list(Actor), ids=lambda a: a.name.lower())
def test_p3_s7_staff_api_is_for_live_staff_tokens_only(world: Portal, actor: Actor) -> None:
    browser = browser_for(world, actor, set_world(world, actor))
    before = database_state(world.db)
    failures: list[str] = []
    for key, row in sorted(API_MATRIX.items()):
        failures += check_api(browser, actor, key, row)
    assert not failures, f"{actor.value}:\n" + "\n".join(failures)
    if actor is Actor.STAFF_TOKEN:
        # The writes happened: the note is gone from the portal, the new items are there.
        with world.db.read() as s:
            note = s.get(PortalItem, (ItemKind.NOTE.value, NOTE))
            new = s.get(PortalItem, (ItemKind.NOTE.value, NEW_ITEM + NOTE))
            assert note is not None and not note.published and note.data is None
            assert new is not None and new.published
    else:
        assert database_state(world.db) == before, "a refused caller changed the portal"


@pytest.mark.parametrize("actor", list(Actor), ids=lambda a: a.name.lower())
def test_p3_s7_public_routes_answer_everyone_alike(world: Portal, actor: Actor) -> None:
    headers = set_world(world, actor)
    failures: list[str] = []
    for (method, path), row in sorted(PUBLIC.items()):
        response = row.call(browser_for(world, actor, headers))
        where = f"  {method} {path}: "
        if response.status_code != 200:
            failures.append(f"{where}got {response.status_code}, expected 200")
            continue
        if not row.check(response):
            failures.append(f"{where}unexpected answer: {response.text[:200]}")
        body = response.content.decode("latin-1")
        for secret in [*secrets_for(Actor.ANONYMOUS), UPLOAD_SECRET, "Estate of Smith"]:
            if secret in body:
                failures.append(f"{where}leaks {secret!r}")
    assert not failures, f"{actor.value}:\n" + "\n".join(failures)


def test_p3_client_cookies_are_no_staff_credentials(world: Portal) -> None:
    """A client's session sent as a bearer token, with its cookie and CSRF token besides, is
    still no way into the staff API."""
    browser = browser_for(world, Actor.ACTIVE, {})
    assert Actor.ACTIVE in CLIENT_SESSION and browser.csrf is not None
    browser.headers.update(
        {
            "Authorization": f"Bearer {browser.cookies['portal_session']}",
            "X-CSRF-Token": browser.csrf,
        }
    )
    before = database_state(world.db)
    for key, row in sorted(API_MATRIX.items()):
        assert row.call(browser).status_code == 401, key
    assert database_state(world.db) == before
