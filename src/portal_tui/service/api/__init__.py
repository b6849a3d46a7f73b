"""The staff API: JSON under /api/v1, for the firm's delivery worker (OpenAPI: /openapi.json).

Every route needs `Authorization: Bearer <token>` (401 otherwise); every write an
`Idempotency-Key` (400 without; 409 while the first request with it runs; 422 if it was used
for another request; a replay gets the first answer with `Idempotent-Replayed: true`). Every
answer carries `X-Portal-API-Version`; errors are `{"detail": "..."}`. JSON bodies are capped
at 5 MB (413), document content at the configured upload limit.

Writes are desired states with the firm's version: only a newer version changes anything, an
older or equal one is answered 200 with `applied: false` and the version held. 409 means "not
now, retry with the same key" (e.g. an item whose matter has not arrived yet).

    PUT    /firm                               FirmIn: name, enabled, permissions,
                                               notify_new_items, daily_digest,
                                               notify_staff_on_upload, version
    PUT    /matters/{id}                       MatterIn: number, name, enabled, permissions,
                                               version
    PUT    /matters/{id}/notify                {notify: [{login, name, email}], version}
    PUT    /items/{kind}/{id}                  {matter_id, version, data, batch?, notify}
    POST   /items/batch                        {operations: [{op: publish|revoke, kind,
                                               item_id, ...}]}: many in one transaction,
                                               a result each (applied/stale/rejected/retry)
    DELETE /items/{kind}/{id}?version=N[&matter_id=M]    revoke; keeps a tombstone
    GET    /items/{kind}/{id}                  what the portal holds of it
    PUT    /items/document/{id}/content?version=N        the bytes (application/octet-stream)
    PUT    /contacts/{id}                      {matter_id, client_id, name, email, status,
                                               action, version}
    GET    /contacts/{id}/security             {two_factor, last_login_at, active_sessions}
    POST   /contacts/{id}/sign-out             every session of the contact's client ends
    POST   /batches/{batch}/notify             the batch's "new items" emails, once
    GET    /changes?cursor=&limit=             {changes: [...], cursor, more}
    GET    /uploads/{id}/content               a client upload's bytes, as an attachment
    POST   /firm/reset                         {epoch, contacts}: a firm that restored a
                                               backup starts over (see reset.py)

One portal serves one firm (binding.py): portal-tui names the firm and its epoch on every
request (X-Portal-Firm, X-Portal-Firm-Epoch); another firm, or an older copy of the bound
firm's database, is refused with 421.
"""

from fastapi import APIRouter
from fastapi.routing import APIRoute

from . import batch, contacts, feed, items, matters, reset, sessions, two_factor

router = APIRouter(prefix="/api/v1")
_MODULES = (matters, items, batch, contacts, sessions, feed, reset, two_factor)
for _module in _MODULES:
    router.include_router(_module.router)


def allowed_methods(path: str) -> str:
    """The Allow header of a 405 from the staff API: every method some route takes at this
    path, as the OpenAPI document lists them under it. (Starlette names only those of the
    first route whose path matched: PUT alone for /items/invoice/1, which takes GET and
    DELETE too.) The modules' own routes are read, whatever FastAPI makes of them when
    included."""
    relative = path.removeprefix(router.prefix)
    return ", ".join(
        sorted(
            {
                method
                for module in _MODULES
                for route in module.router.routes
                if isinstance(route, APIRoute) and route.path_regex.match(relative)
                for method in route.methods or ()
            }
        )
    )
