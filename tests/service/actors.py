"""The eight visitors of the authorization matrices (P3, S7), shared by the client pages'
matrix (pages/test_authorization_matrix.py) and the whole app's (test_authorization_matrix.py).

Each actor is Ann (the active contact of matter A in the usual scene), seen in one state of
the world, or someone who is not her: nobody, Bob (a client of another matter), or a staff
API token, live or revoked. `set_world` puts the world in the actor's state and `browser_for`
gives the actor a visitor of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx

from portal_tui.domain.kinds import ItemKind
from portal_tui.service.tokens import create_token, revoke_tokens

from .pages.conftest import ANN, BOB, CONTACT_ANN_A, SHOWN, Browser, Portal, marker


class Actor(Enum):
    ANONYMOUS = "anonymous"
    ACTIVE = "active contact"
    REVOKED = "active contact, items unshared"
    DISABLED = "disabled contact"
    REMOVED = "removed contact"
    OTHER = "client of another matter"
    STAFF_TOKEN = "staff API token, no cookie"
    REVOKED_TOKEN = "revoked staff API token"


# No client session: nobody, and the staff tokens (which are no way into the client pages).
NO_SESSION = frozenset({Actor.ANONYMOUS, Actor.STAFF_TOKEN, Actor.REVOKED_TOKEN})
# Ann's session, whatever became of her access to matter A.
ANN_SESSION = frozenset({Actor.ACTIVE, Actor.REVOKED, Actor.DISABLED, Actor.REMOVED})
# Every actor with a client's session cookie.
CLIENT_SESSION = frozenset(Actor) - NO_SESSION


SHOWN_OF_A = [marker(kind) for kind in ItemKind]
HIDDEN_OF_A = [marker(kind, "hidden") for kind in ItemKind]
OF_B = [marker(kind, "bobs") for kind in ItemKind]


def secrets_for(actor: Actor) -> list[str]:
    """What must never reach this actor: never an unpublished item; never the other client's
    items; the shared items of matter A to nobody but its active contact."""
    secrets = list(HIDDEN_OF_A)
    if actor is not Actor.ACTIVE:
        secrets += SHOWN_OF_A
    if actor is not Actor.OTHER:
        secrets += OF_B
    return secrets


@dataclass
class ActorBrowser(Browser):
    actor: Actor = Actor.ANONYMOUS

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A staff API call with this visitor's credentials, whatever they are (a client's
        cookie, a token, nothing). Writes carry a fresh Idempotency-Key, so that the only
        thing that can be wrong with the request is who sends it."""
        headers = dict(kwargs.pop("headers", {}))
        if method != "GET":
            headers.setdefault("Idempotency-Key", uuid.uuid4().hex)
        return self._send(method, f"/api/v1{path}", headers=headers, **kwargs)


def set_world(portal: Portal, actor: Actor) -> dict[str, str]:
    """Put the world in the actor's state (unshared, disabled, removed); the staff token's
    header for the token actors."""
    if actor is Actor.REVOKED:
        for kind, item_id in SHOWN.items():
            portal.revoke(kind, item_id)
    if actor is Actor.DISABLED:
        portal.set_contact(CONTACT_ANN_A, status="disabled")
    if actor is Actor.REMOVED:
        portal.set_contact(CONTACT_ANN_A, status="removed")
    if actor in (Actor.STAFF_TOKEN, Actor.REVOKED_TOKEN):
        token = create_token(portal.db, "alice")
        if actor is Actor.REVOKED_TOKEN:
            revoke_tokens(portal.db, token=token)
        return {"Authorization": f"Bearer {token}"}
    return {}


def browser_for(portal: Portal, actor: Actor, headers: dict[str, str]) -> ActorBrowser:
    """A browser with a session of its own (log-in, log-out and the invitation replace or
    end the session they are sent with, so no row may share one with another)."""
    if actor in NO_SESSION:
        return ActorBrowser(portal, {}, None, headers, actor=actor)
    raw, csrf = portal.session(BOB if actor is Actor.OTHER else ANN)
    return ActorBrowser(portal, {"portal_session": raw}, csrf, headers, actor=actor)


def app_routes(portal: Portal) -> Iterator[Any]:
    """Every route of the app, included routers opened up (newer FastAPI keeps them nested)."""
    routes = portal.client.app.routes  # type: ignore[attr-defined]
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies included routes into app.routes
        yield from routes
    else:
        yield from iter_route_contexts(routes)


def route_keys(portal: Portal) -> set[tuple[str, str]]:
    """(method, path template) of every route of the running app."""
    found: set[tuple[str, str]] = set()
    for route in app_routes(portal):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path:
            found.update((method, path) for method in methods or ())
    return found
