"""P3 and S7 as a matrix: every client page route against every kind of visitor.

Only the matter's active contact gets the page (or its redirect or download); anyone else
gets a 404 — or, with no session at all, the way to the log-in page; a client with a session
and no matter open to them any more (disabled, removed) the page saying their access ended,
the one 403 — never a 5xx, and never a byte of the matter's shared data.

MATRIX is one part of the whole app's matrix (tests/service/test_authorization_matrix.py),
which takes the route list from the running app and fails on any route without a row; the
visitors (actors.py) are the same for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from portal_tui.domain.kinds import ItemKind
from portal_tui.service.models import ClientMessage, ClientUpload, FormSubmission

from ..actors import (
    ANN_SESSION,
    NO_SESSION,
    Actor,
    ActorBrowser,
    browser_for,
    secrets_for,
    set_world,
)
from .conftest import (
    GOOD_ANSWERS,
    INVITE_ANN_C,
    INVITE_CAT,
    MATTER_A,
    MATTER_B,
    MATTER_C,
    PASSWORD,
    SHOWN,
    Portal,
    Scene,
    marker,
)

A = f"/m/{MATTER_A}"


@dataclass(frozen=True)
class Outcome:
    status: int
    location: str | None = None  # a prefix of the redirect's Location
    attachment: bool = False
    shows: tuple[str, ...] = ()  # text the body must hold


LOGIN = Outcome(303, "/login")
NOT_FOUND = Outcome(404)
ENDED_TEXT = "Your access to this portal has ended."
# Disabled or removed everywhere: the session ends on its next request, and the page says so.
ENDED = Outcome(403, shows=(ENDED_TEXT,))
ENDED_ACTORS = frozenset({Actor.DISABLED, Actor.REMOVED})


@dataclass(frozen=True)
class Row:
    """One route: how to call it, and what each actor must get."""

    call: Callable[[ActorBrowser], httpx.Response]
    expect: Callable[[Actor], Outcome]


def private(owner: Outcome, revoked: Outcome | None = None) -> Callable[[Actor], Outcome]:
    """A matter page: the owner's outcome; after an unshare, `revoked` (the list pages stay,
    empty) or 404 (the item is gone); everyone else 404 or the log-in page."""

    def expect(actor: Actor) -> Outcome:
        if actor in NO_SESSION:
            return LOGIN
        if actor is Actor.ACTIVE:
            return owner
        if actor is Actor.REVOKED:
            return revoked or NOT_FOUND
        if actor in ENDED_ACTORS:
            return ENDED
        return NOT_FOUND

    return expect


def signed_in(outcome: Outcome) -> Callable[[Actor], Outcome]:
    """A page of the client's own account: any client with open matters gets `outcome`."""

    def expect(actor: Actor) -> Outcome:
        if actor in NO_SESSION:
            return LOGIN
        return ENDED if actor in ENDED_ACTORS else outcome

    return expect


def same_for_all(outcome: Outcome) -> Callable[[Actor], Outcome]:
    return lambda actor: outcome


def login_post(b: ActorBrowser) -> httpx.Response:
    # Each actor tries its own credentials; no-session actors try Ann's email with a guess.
    email, password = {
        Actor.OTHER: ("bob@example.com", PASSWORD),
    }.get(b.actor, ("ann@example.com", PASSWORD if b.actor in ANN_SESSION else "a wrong guess"))
    return b.post_prelogin("/login", {"email": email, "password": password})


def expect_login(actor: Actor) -> Outcome:
    if actor in (Actor.ACTIVE, Actor.REVOKED, Actor.OTHER):
        return Outcome(303, "/")
    # Disabled and removed: the right password, and still no way in (generic message).
    return Outcome(200, shows=("We could not log you in",))


def expect_home(actor: Actor) -> Outcome:
    if actor in NO_SESSION:
        return LOGIN
    if actor in (Actor.ACTIVE, Actor.REVOKED):
        return Outcome(303, f"{A}/")
    if actor is Actor.OTHER:
        return Outcome(303, f"/m/{MATTER_B}/")
    return ENDED


def expect_accept(actor: Actor) -> Outcome:
    # Ann's invitation to matter C: hers, whatever her standing on matter A.
    if actor in NO_SESSION:
        return LOGIN
    if actor in ANN_SESSION:
        return Outcome(303, f"/m/{MATTER_C}/")
    return NOT_FOUND


def own_account(outcome: Outcome) -> Callable[[Actor], Outcome]:
    """A page of the visitor's own account: any client with a matter open to them."""
    return lambda a: LOGIN if a in NO_SESSION else ENDED if a in ENDED_ACTORS else outcome


def html(*shows: str) -> Outcome:
    return Outcome(200, shows=shows)


def download(*shows: str) -> Outcome:
    return Outcome(200, attachment=True, shows=shows)


INV, EVT, DOC, FORM = (
    SHOWN[ItemKind.INVOICE],
    SHOWN[ItemKind.EVENT],
    SHOWN[ItemKind.DOCUMENT],
    SHOWN[ItemKind.FORM],
)

MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/login"): Row(
        lambda b: b.get("/login"),
        lambda a: html("Log in") if a in NO_SESSION else Outcome(303, "/"),
    ),
    ("POST", "/login"): Row(login_post, expect_login),
    ("POST", "/logout"): Row(
        lambda b: b.post("/logout"),
        lambda a: LOGIN if a in NO_SESSION else Outcome(303, "/login?out=1"),
    ),
    ("GET", "/"): Row(lambda b: b.get("/"), expect_home),
    ("GET", "/matters"): Row(
        lambda b: b.get("/matters"),
        lambda a: (
            LOGIN if a in NO_SESSION else ENDED if a in ENDED_ACTORS else html("Your matters")
        ),
    ),
    # Cat's invitation: the link itself is the credential, whoever holds it.
    ("GET", "/invite/{secret}"): Row(
        lambda b: b.get(f"/invite/{INVITE_CAT}"), same_for_all(html("Set a password"))
    ),
    ("POST", "/invite/{secret}"): Row(
        lambda b: b.post_prelogin(
            f"/invite/{INVITE_CAT}", {"password": PASSWORD, "confirm": PASSWORD}
        ),
        same_for_all(Outcome(303, f"{A}/")),
    ),
    # Asking for a reset link answers the same to everyone, whoever the address is.
    ("GET", "/forgot"): Row(
        lambda b: b.get("/forgot"), same_for_all(html("Forgot your password?"))
    ),
    ("POST", "/forgot"): Row(
        lambda b: b.post_prelogin("/forgot", {"email": "ann@example.com"}),
        same_for_all(html("we have emailed it a link")),
    ),
    # A reset link is the credential: one never sent is nobody's.
    ("GET", "/reset/{secret}"): Row(
        lambda b: b.get("/reset/not-a-link-anyone-was-sent"), same_for_all(NOT_FOUND)
    ),
    ("POST", "/reset/{secret}"): Row(
        lambda b: b.post_prelogin(
            "/reset/not-a-link-anyone-was-sent", {"password": PASSWORD, "confirm": PASSWORD}
        ),
        same_for_all(NOT_FOUND),
    ),
    # Sign-in links are off unless the firm turns them on (test_link_sign_in.py tests them on):
    # off, they are not there for anyone.
    ("POST", "/login/link"): Row(
        lambda b: b.post_prelogin("/login/link", {"email": "ann@example.com"}),
        same_for_all(NOT_FOUND),
    ),
    ("GET", "/login/link/{secret}"): Row(
        lambda b: b.get("/login/link/not-a-link-anyone-was-sent"), same_for_all(NOT_FOUND)
    ),
    ("POST", "/login/link/{secret}"): Row(
        lambda b: b.post_prelogin("/login/link/not-a-link-anyone-was-sent", {}),
        same_for_all(NOT_FOUND),
    ),
    # Two-factor: the client's own page (a setup while it is off), and the code pages of a
    # sign-in half done, which nobody without its pending cookie reaches.
    ("GET", "/account/two-factor"): Row(
        lambda b: b.get("/account/two-factor"), signed_in(html("Set up two-factor sign-in"))
    ),
    ("POST", "/account/two-factor"): Row(
        # Without the setup page's signed field: nothing to confirm, the page shown anew.
        lambda b: b.post("/account/two-factor", {"code": "000000"}),
        signed_in(Outcome(400, shows=("This setup page is out of date",))),
    ),
    ("POST", "/account/two-factor/off"): Row(
        lambda b: b.post("/account/two-factor/off", {"password": PASSWORD}),
        signed_in(Outcome(303, "/account/two-factor")),
    ),
    ("GET", "/login/two-factor"): Row(lambda b: b.get("/login/two-factor"), same_for_all(LOGIN)),
    ("POST", "/login/two-factor"): Row(
        lambda b: b.post_prelogin("/login/two-factor", {"code": "000000"}), same_for_all(LOGIN)
    ),
    ("GET", "/login/two-factor/setup"): Row(
        lambda b: b.get("/login/two-factor/setup"), same_for_all(LOGIN)
    ),
    ("POST", "/login/two-factor/setup"): Row(
        lambda b: b.post_prelogin("/login/two-factor/setup", {"code": "000000"}),
        same_for_all(LOGIN),
    ),
    ("POST", "/invite/{secret}/accept"): Row(
        lambda b: b.post(f"/invite/{INVITE_ANN_C}/accept"), expect_accept
    ),
    ("GET", "/m/{matter_id:int}/"): Row(
        lambda b: b.get(f"{A}/"),
        private(
            html(marker(ItemKind.INVOICE), marker(ItemKind.TASK), marker(ItemKind.EVENT)),
            html("Dashboard"),
        ),
    ),
    ("GET", "/m/{matter_id:int}/invoices"): Row(
        lambda b: b.get(f"{A}/invoices"),
        private(html(marker(ItemKind.INVOICE)), html("No invoices")),
    ),
    ("GET", "/m/{matter_id:int}/invoices/{item_id:int}"): Row(
        lambda b: b.get(f"{A}/invoices/{INV}"), private(html(marker(ItemKind.INVOICE)))
    ),
    ("GET", "/m/{matter_id:int}/invoices/{item_id:int}.pdf"): Row(
        lambda b: b.get(f"{A}/invoices/{INV}.pdf"), private(download("%PDF"))
    ),
    ("GET", "/m/{matter_id:int}/calendar"): Row(
        lambda b: b.get(f"{A}/calendar"),
        private(html(marker(ItemKind.EVENT)), html("No upcoming events")),
    ),
    ("GET", "/m/{matter_id:int}/calendar.ics"): Row(
        lambda b: b.get(f"{A}/calendar.ics"),
        private(download(marker(ItemKind.EVENT)), download("BEGIN:VCALENDAR")),
    ),
    ("GET", "/m/{matter_id:int}/tasks"): Row(
        lambda b: b.get(f"{A}/tasks"),
        private(html(marker(ItemKind.TASK)), html("No open tasks")),
    ),
    ("GET", "/m/{matter_id:int}/notes"): Row(
        lambda b: b.get(f"{A}/notes"),
        private(html(marker(ItemKind.NOTE)), html("No notes")),
    ),
    ("GET", "/m/{matter_id:int}/documents"): Row(
        lambda b: b.get(f"{A}/documents"),
        private(html(marker(ItemKind.DOCUMENT)), html("No documents")),
    ),
    ("GET", "/m/{matter_id:int}/documents/{item_id:int}"): Row(
        lambda b: b.get(f"{A}/documents/{DOC}"), private(download("engagement letter"))
    ),
    # Uploading and replying belong to the matter, not to an item: an unshare leaves them.
    ("POST", "/m/{matter_id:int}/documents"): Row(
        lambda b: b.upload(f"{A}/documents", "scan.pdf", b"%PDF-1.4 scan"),
        private(Outcome(303, f"{A}/documents"), Outcome(303, f"{A}/documents")),
    ),
    ("GET", "/m/{matter_id:int}/messages"): Row(
        lambda b: b.get(f"{A}/messages"),
        private(html(marker(ItemKind.MESSAGE)), html("No messages")),
    ),
    ("POST", "/m/{matter_id:int}/messages"): Row(
        lambda b: b.post(f"{A}/messages", {"body": "Thank you!"}),
        private(Outcome(303, f"{A}/messages"), Outcome(303, f"{A}/messages")),
    ),
    ("GET", "/m/{matter_id:int}/forms/{item_id:int}"): Row(
        lambda b: b.get(f"{A}/forms/{FORM}"), private(html(marker(ItemKind.FORM)))
    ),
    ("POST", "/m/{matter_id:int}/forms/{item_id:int}"): Row(
        lambda b: b.post(f"{A}/forms/{FORM}", GOOD_ANSWERS),
        private(Outcome(303, f"{A}/forms/{FORM}")),
    ),
    # The account page is the client's own, whatever matter they are in; a client whose access
    # ended gets the ended page here too.
    ("GET", "/account"): Row(lambda b: b.get("/account"), own_account(html("Your account"))),
    ("POST", "/account/password"): Row(
        lambda b: b.post(
            "/account/password",
            {"current": "a wrong guess", "password": PASSWORD, "confirm": PASSWORD},
        ),
        own_account(Outcome(400, shows=("That is not your current password.",))),
    ),
    ("POST", "/account/email"): Row(
        lambda b: b.post("/account/email", {"preference": "digest"}),
        own_account(Outcome(303, "/account?done=email")),
    ),
    ("POST", "/account/sessions/end"): Row(
        lambda b: b.post("/account/sessions/end", {"session": "0" * 24}),
        own_account(Outcome(303, "/account?done=session")),
    ),
    ("POST", "/account/sessions/end-others"): Row(
        lambda b: b.post("/account/sessions/end-others"),
        own_account(Outcome(303, "/account?done=others")),
    ),
    ("GET", "/static/portal.css"): Row(
        lambda b: b.get("/static/portal.css"), same_for_all(Outcome(200))
    ),
}


def client_rows(portal: Portal) -> tuple[int, int, int]:
    with portal.db.read() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(model).where(model.matter_id == MATTER_A))
            or 0
            for model in (ClientUpload, ClientMessage, FormSubmission)
        )


@pytest.mark.parametrize("actor", list(Actor), ids=lambda a: a.name.lower())
def test_p3_s7_authorization_matrix(portal: Portal, scene: Scene, actor: Actor) -> None:
    headers = set_world(portal, actor)
    failures: list[str] = []

    # Reads first: the posts change the world (an invitation used, a form submitted); Ann's
    # acceptance of matter C last, as it lets her log in whatever became of matter A.
    def order(key: tuple[str, str]) -> tuple[bool, bool, tuple[str, str]]:
        return (key[0] != "GET", key[1] == "/invite/{secret}/accept", key)

    for (method, path), row in sorted(MATRIX.items(), key=lambda kv: order(kv[0])):
        failures += check(browser_for(portal, actor, headers), actor, method, path, row)
    assert not failures, f"{actor.value}:\n" + "\n".join(failures)
    if actor not in (Actor.ACTIVE, Actor.REVOKED):
        assert client_rows(portal) == (0, 0, 0), "a refused visitor changed something"


def check(browser: ActorBrowser, actor: Actor, method: str, path: str, row: Row) -> list[str]:
    expected = row.expect(actor)
    response = row.call(browser)
    where = f"  {method} {path}: "
    problems: list[str] = []
    if response.status_code != expected.status:
        problems.append(f"{where}got {response.status_code}, expected {expected.status}")
    ended_page = response.status_code == 403 and ENDED_TEXT in response.text
    if (response.status_code == 403 and not ended_page) or response.status_code >= 500:
        problems.append(f"{where}must never answer {response.status_code}")
    if expected.location is not None:
        location = response.headers.get("location", "")
        if not location.startswith(expected.location):
            problems.append(f"{where}redirects to {location!r}, expected {expected.location!r}")
    disposition = response.headers.get("content-disposition", "")
    if expected.attachment and not disposition.startswith("attachment"):
        problems.append(f"{where}not served as an attachment ({disposition!r})")
    body = response.content.decode("latin-1")
    for text in expected.shows:
        if text not in body:
            problems.append(f"{where}does not show {text!r}")
    for secret in secrets_for(actor):
        if secret in body:
            problems.append(f"{where}leaks {secret!r}")
    if actor not in (Actor.ACTIVE, Actor.REVOKED) and path.startswith("/m/"):
        for leak in ("Estate of Smith", "engagement letter"):
            if leak in body:
                problems.append(f"{where}leaks {leak!r}")
    return problems
