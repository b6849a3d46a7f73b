"""The clients' pages: server-rendered HTML that works with JavaScript off.

`router` holds every client page; each goes through security.PageRoute (hardening headers,
error pages). The authorization matrix test enumerates these routes and fails on any route
without a row, so a new page cannot slip in unchecked.
"""

from fastapi import Response

from . import account, auth, link_sign_in, portal, recovery, two_factor
from .common import PageRouter
from .render import STATIC_DIR

router = PageRouter()
# The pages' routes in one flat list, the busiest (the matter pages) first: FastAPI matches an
# included router's routes again at each level of nesting, on every request.
router.routes.extend(portal.router.routes)
router.routes.extend(auth.router.routes)
router.routes.extend(recovery.router.routes)
router.routes.extend(link_sign_in.router.routes)
router.routes.extend(account.router.routes)
router.routes.extend(two_factor.router.routes)

_STYLESHEET = (STATIC_DIR / "portal.css").read_bytes()


@router.get("/static/portal.css")
def stylesheet() -> Response:
    # The one response without client data, so the one that may be cached.
    return Response(
        _STYLESHEET,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
