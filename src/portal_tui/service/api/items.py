"""Publish and revoke shared items, a document's bytes and an invoice's own PDF (S0-S7).

A publish is the item's desired state with the firm's version; a revoke drops the copy and
keeps a tombstone holding the version. Only a newer version changes anything, so a late retry
of an old share never undoes a newer unshare, and a replayed revoke never hides a newer share.

Bytes go apart from the copy: a document's after each publish; an invoice's own PDF only when
the publish's answer says the portal does not hold the bytes its copy names (`has_content`
false), so a republish of an invoice does not carry its PDF again.

Each write is one transaction, its Idempotency-Key included (common.write_once). The same
publish and revoke serve POST /items/batch (batch.py), many in one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, NamedTuple, TypeVar

from fastapi import Depends, HTTPException, Path, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from portal_tui.database import Database
from portal_tui.domain.kinds import ItemKind
from portal_tui.sqltypes import utcnow

from ..config import ServiceConfig
from ..deps import db_of
from ..models import DocumentBlob, InvoicePdf, PortalItem, PortalMatter
from .auth import IdempotencyKey
from .common import (
    DB,
    ERRORS,
    READ_ERRORS,
    known_matter,
    matter_not_here,
    matter_or_placeholder,
    not_now,
    same_as_path,
    staff_router,
    write_once,
)
from .idempotency import Pending
from .route import FastHandler, fast_path, one_transaction, raw_body_limit
from .schemas import (
    MAX_ID,
    MAX_VERSION,
    ErrorOut,
    ItemOut,
    ItemState,
    PublishBase,
    PublishDocument,
    PublishEvent,
    PublishForm,
    PublishInvoice,
    PublishItem,
    PublishMessage,
    PublishNote,
    PublishTask,
)

router = staff_router()

ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="The firm's id of the item.")]
VersionQuery = Annotated[
    int, Query(ge=1, le=MAX_VERSION, description="The firm's version of this change.")
]


def _state(s: Session, item: PortalItem) -> ItemState:
    has_content: bool | None = None
    if item.kind == ItemKind.DOCUMENT.value:
        has_content = item.published and _has_blob(s, item.item_id)
    elif item.kind == ItemKind.INVOICE.value and item.published:
        has_content = _pdf_state(s, item.item_id, (item.data or {}).get("pdf_sha256"))
    return ItemState(
        kind=ItemKind(item.kind),
        item_id=item.item_id,
        matter_id=item.matter_id,
        published=item.published,
        version=item.version,
        has_content=has_content,
    )


def _out(s: Session, item: PortalItem, *, applied: bool) -> ItemOut:
    return ItemOut(**_state(s, item).model_dump(), applied=applied)


class Held(NamedTuple):
    """What the portal holds of an item: a published copy or a tombstone."""

    matter_id: int
    published: bool
    version: int
    published_at: datetime | None


_ITEMS = PortalItem.__table__
_MATTERS = PortalMatter.__table__
_HELD = select(
    _ITEMS.c.kind,
    _ITEMS.c.item_id,
    _ITEMS.c.matter_id,
    _ITEMS.c.published,
    _ITEMS.c.version,
    _ITEMS.c.published_at,
)
# Statements built once: building and keying one costs more than running it.
_HELD_ONE = _HELD.where(
    _ITEMS.c.kind == bindparam("kind"), _ITEMS.c.item_id == bindparam("item_id")
).with_for_update()
# Locked in key order, so two transactions locking several items cannot deadlock.
_HELD_MANY = (
    _HELD.where(
        _ITEMS.c.kind.in_(bindparam("kinds", expanding=True)),
        _ITEMS.c.item_id.in_(bindparam("item_ids", expanding=True)),
    )
    .order_by(_ITEMS.c.kind, _ITEMS.c.item_id)
    .with_for_update()
)
_KNOWN_MATTERS = select(_MATTERS.c.id).where(_MATTERS.c.id.in_(bindparam("ids", expanding=True)))
_INSERT_ITEMS = insert(PortalItem)
_UPDATE_ITEMS = update(PortalItem).where(
    _ITEMS.c.kind == bindparam("key_kind"), _ITEMS.c.item_id == bindparam("key_item_id")
)

Key = tuple[str, int]


class ItemWriter:
    """Publishes and revokes of items in one transaction: what the portal holds of them is
    read once, locked for update, and the changes are written together by `flush`."""

    def __init__(
        self, s: Session, keys: Iterable[tuple[ItemKind, int]], matter_ids: Iterable[int]
    ) -> None:
        self.s = s
        conn = s.connection()
        wanted = {(kind.value, item_id) for kind, item_id in keys}
        rows: Iterable[Any] = ()
        if len(wanted) == 1:
            ((kind, item_id),) = wanted
            rows = conn.execute(_HELD_ONE, {"kind": kind, "item_id": item_id})
        elif wanted:
            kinds = sorted({kind for kind, _ in wanted})
            item_ids = sorted({item_id for _, item_id in wanted})
            rows = conn.execute(_HELD_MANY, {"kinds": kinds, "item_ids": item_ids})
        self.held: dict[Key, Held] = {
            (row.kind, row.item_id): Held(
                row.matter_id, row.published, row.version, row.published_at
            )
            for row in rows
            if (row.kind, row.item_id) in wanted
        }
        self._stored = set(self.held)
        ids = sorted(set(matter_ids))
        self.matters = set(conn.scalars(_KNOWN_MATTERS, {"ids": ids})) if ids else set()
        self._missing: set[int] = set()
        self._inserts: dict[Key, dict[str, Any]] = {}
        self._updates: dict[Key, dict[str, Any]] = {}
        # Invoices published here, and the PDF each copy now names (None: none of its own).
        self._pdf_wanted: dict[int, str | None] = {}
        # Invoices whose held PDF goes unless it is the one named (None: whatever it is).
        self._pdf_drop: dict[int, str | None] = {}

    def publish(
        self, kind: ItemKind, item_id: int, body: PublishBase, stored: dict[str, Any]
    ) -> ItemOut:
        """Raises not_now while the matter has not arrived, before changing anything."""
        key = (kind.value, item_id)
        held = self.held.get(key)
        if held is not None and body.version <= held.version:
            return self._out(kind, item_id, held, applied=False)
        if body.matter_id not in self.matters:
            if body.matter_id in self._missing:
                raise matter_not_here(body.matter_id)
            try:
                known_matter(self.s, body.matter_id)
            except HTTPException:
                self._missing.add(body.matter_id)
                raise
            self.matters.add(body.matter_id)
        published_at = held.published_at if held is not None and held.published else utcnow()
        now = Held(body.matter_id, True, body.version, published_at)
        # Only items that should be announced join the batch's "new items" email.
        self._write(key, now, data=stored, batch=body.batch if body.notify else None)
        if kind is ItemKind.DOCUMENT:
            _keep_blob_if_same(self.s, item_id, stored.get("sha256"))
        elif kind is ItemKind.INVOICE:
            wanted = stored.get("pdf_sha256")
            self._pdf_wanted[item_id] = wanted
            self._pdf_drop[item_id] = wanted
        return self._out(kind, item_id, now, applied=True)

    def revoke(self, kind: ItemKind, item_id: int, version: int, matter_id: int | None) -> ItemOut:
        key = (kind.value, item_id)
        held = self.held.get(key)
        if held is not None and version <= held.version:
            return self._out(kind, item_id, held, applied=False)
        if held is None:
            if matter_id is None:
                # Nothing to drop, and nowhere to keep a tombstone.
                return ItemOut(
                    kind=kind,
                    item_id=item_id,
                    matter_id=None,
                    published=False,
                    version=0,
                    has_content=False if kind is ItemKind.DOCUMENT else None,
                    applied=False,
                )
            if matter_id not in self.matters:
                matter_or_placeholder(self.s, matter_id)
                self.matters.add(matter_id)
                self._missing.discard(matter_id)
            now = Held(matter_id, False, version, None)
        else:
            now = Held(held.matter_id, False, version, held.published_at)
        self._write(key, now, data=None, batch=None)
        if kind is ItemKind.DOCUMENT:
            blob = self.s.get(DocumentBlob, item_id, with_for_update=True)
            if blob is not None:
                self.s.delete(blob)
        elif kind is ItemKind.INVOICE:
            # Unshared: the portal keeps none of the firm's PDF of it.
            self._pdf_wanted[item_id] = None
            self._pdf_drop[item_id] = None
        return self._out(kind, item_id, now, applied=True)

    def flush(self) -> None:
        """Write the changes (a first write of an item racing another one on PostgreSQL
        raises IntegrityError here: the caller's transaction is retried)."""
        self.s.flush()  # matters this needs are written first
        conn = self.s.connection()
        if self._inserts:
            conn.execute(_INSERT_ITEMS, list(self._inserts.values()))
        if self._updates:
            conn.execute(_UPDATE_ITEMS, list(self._updates.values()))
        self._stored.update(self._inserts)
        self._inserts.clear()
        self._updates.clear()
        self._drop_pdfs(conn)

    def _drop_pdfs(self, conn: Any) -> None:
        """The held PDFs no copy names any more: gone in one statement for the invoices that
        have none now (most of a batch), one each for a PDF replaced."""
        drop, self._pdf_drop = self._pdf_drop, {}
        none = sorted(item_id for item_id, keep in drop.items() if keep is None)
        for start in range(0, len(none), 500):
            part = none[start : start + 500]
            conn.execute(delete(InvoicePdf).where(InvoicePdf.item_id.in_(part)))
        for item_id, keep in drop.items():
            if keep is not None:
                conn.execute(
                    delete(InvoicePdf).where(
                        InvoicePdf.item_id == item_id, InvoicePdf.sha256 != keep
                    )
                )

    def _write(
        self, key: Key, now: Held, *, data: dict[str, Any] | None, batch: str | None
    ) -> None:
        self.held[key] = now
        values = {
            "matter_id": now.matter_id,
            "published": now.published,
            "version": now.version,
            "published_at": now.published_at,
            "data": data,
            "batch": batch,
        }
        if key in self._stored:
            self._updates[key] = {"key_kind": key[0], "key_item_id": key[1], **values}
        else:
            self._inserts[key] = {"kind": key[0], "item_id": key[1], **values}

    def _out(self, kind: ItemKind, item_id: int, held: Held, *, applied: bool) -> ItemOut:
        has_content: bool | None = None
        if kind is ItemKind.DOCUMENT:
            has_content = held.published and _has_blob(self.s, item_id)
        elif kind is ItemKind.INVOICE and held.published:
            if item_id in self._pdf_wanted:
                wanted = self._pdf_wanted[item_id]
            else:  # not published by this writer: the copy held says which PDF it names
                data = self.s.scalar(
                    select(_ITEMS.c.data).where(
                        _ITEMS.c.kind == kind.value, _ITEMS.c.item_id == item_id
                    )
                )
                wanted = (data or {}).get("pdf_sha256")
            has_content = _pdf_state(self.s, item_id, wanted)
        return ItemOut(
            kind=kind,
            item_id=item_id,
            matter_id=held.matter_id,
            published=held.published,
            version=held.version,
            has_content=has_content,
            applied=applied,
        )


def _pdf_state(s: Session, item_id: int, wanted: object) -> bool | None:
    """For an invoice whose copy names a PDF: whether the portal holds those very bytes (the
    firm sends them only when it does not). None: the copy names no PDF."""
    if not isinstance(wanted, str) or not wanted:
        return None
    found = s.scalar(
        select(InvoicePdf.item_id).where(InvoicePdf.item_id == item_id, InvoicePdf.sha256 == wanted)
    )
    return found is not None


def _has_blob(s: Session, item_id: int) -> bool:
    return s.scalar(select(DocumentBlob.item_id).where(DocumentBlob.item_id == item_id)) is not None


def publish(request: Request, db: DB, kind: ItemKind, item_id: int, body: PublishItem) -> Response:
    same_as_path("item_id", item_id, body.item_id)
    stored = body.data.model_dump(mode="json")

    def work(s: Session) -> ItemOut:
        writer = ItemWriter(s, [(kind, item_id)], [body.matter_id])
        out = writer.publish(kind, item_id, body, stored)
        writer.flush()
        return out

    return write_once(
        request, db, work, conflict=f"The {kind.label} {item_id} changed meanwhile; retry."
    )


PublishEndpoint = Callable[[Request, int, PublishItem, Database, str], Response]


def _fast_publish(model: type[PublishItem], endpoint: PublishEndpoint) -> FastHandler:
    """The publish endpoint for a plain request: an id in range and a body the model takes.
    Anything else goes through FastAPI, for its usual answer."""

    def handle(request: Request, payload: Any) -> Response | None:
        raw = request.path_params.get("item_id")
        if not (isinstance(raw, str) and raw.isascii() and raw.isdigit()):
            return None
        item_id = int(raw)
        if not 1 <= item_id <= MAX_ID:
            return None
        try:
            body = model.model_validate(payload)
        except ValidationError:
            return None
        pending: Pending = request.state.pending_key
        return endpoint(request, item_id, body, db_of(request), pending.key)

    return handle


def _keep_blob_if_same(s: Session, item_id: int, sha256: object) -> None:
    """A newer version of a document keeps its bytes only if they are known to be the same;
    otherwise the client sees it again once the new content has arrived."""
    blob = s.get(DocumentBlob, item_id, with_for_update=True)
    if blob is not None and (sha256 is None or blob.sha256 != sha256):
        s.delete(blob)


MatterQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_ID,
        description="The item's matter. Pass it: for an item the portal never had, it lets the "
        "tombstone be kept, so a late publish of an older version cannot bring the item back.",
    ),
]


def revoke(
    request: Request,
    db: Database,
    kind: ItemKind,
    item_id: int,
    version: int,
    matter_id: int | None,
) -> Response:
    def work(s: Session) -> ItemOut:
        writer = ItemWriter(s, [(kind, item_id)], [matter_id] if matter_id else [])
        out = writer.revoke(kind, item_id, version, matter_id)
        writer.flush()
        return out

    return write_once(
        request, db, work, conflict=f"The {kind.label} {item_id} changed meanwhile; retry."
    )


def held_item(db: Database, kind: ItemKind, item_id: int) -> ItemState:
    with db.read() as s:
        item = s.get(PortalItem, (kind.value, item_id))
        if item is None:
            raise HTTPException(404, f"The portal has no {kind.label} {item_id}.")
        return _state(s, item)


class KindRoutes(NamedTuple):
    """What the routes of one item kind have of their own; all else they share."""

    kind: ItemKind
    body: type[PublishItem]  # what its PUT takes
    publish_summary: str


# PUT, DELETE and GET /items/{kind}/{item_id}, a row per kind. Each kind has routes under a
# path of its own, rather than one route taking {kind}, so that the OpenAPI document states
# the very body each kind's publish takes, and lists every method a URL takes under one path
# (the Allow header of a 405 agrees with it).
KIND_ROUTES: tuple[KindRoutes, ...] = (
    KindRoutes(ItemKind.INVOICE, PublishInvoice, "Publish an invoice"),
    KindRoutes(ItemKind.EVENT, PublishEvent, "Publish a calendar event"),
    KindRoutes(ItemKind.TASK, PublishTask, "Publish a task"),
    KindRoutes(ItemKind.NOTE, PublishNote, "Publish a note"),
    KindRoutes(ItemKind.DOCUMENT, PublishDocument, "Publish a document's details"),
    KindRoutes(ItemKind.MESSAGE, PublishMessage, "Publish a message"),
    KindRoutes(ItemKind.FORM, PublishForm, "Publish an intake form"),
)


def _publish_route(row: KindRoutes, path: str) -> None:
    kind, model = row.kind, row.body

    def publish_kind(
        request: Request, item_id: ItemId, body: PublishItem, db: DB, _key: IdempotencyKey
    ) -> Response:
        return publish(request, db, kind, item_id, body)

    # FastAPI takes the request schema from the annotation: this kind's body, not the union.
    publish_kind.__annotations__["body"] = model
    fast_path(_fast_publish(model, publish_kind), publish_kind)
    router.put(
        path,
        response_model=ItemOut,
        responses=ERRORS,
        summary=row.publish_summary,
        name=f"publish_{kind.value}",
    )(publish_kind)


def _revoke_and_read_routes(kind: ItemKind, path: str) -> None:
    named = f"{'an' if kind.label[0] in 'aeiou' else 'a'} {kind.label}"

    @router.delete(
        path,
        response_model=ItemOut,
        responses=ERRORS,
        summary=f"Revoke (unshare) {named}",
        name=f"revoke_{kind.value}",
    )
    @one_transaction
    def revoke_kind(
        request: Request,
        item_id: ItemId,
        version: VersionQuery,
        db: DB,
        _key: IdempotencyKey,
        matter_id: MatterQuery = None,
    ) -> Response:
        return revoke(request, db, kind, item_id, version, matter_id)

    @router.get(
        path,
        response_model=ItemState,
        responses={
            **READ_ERRORS,
            404: {"model": ErrorOut, "description": "The portal never had it"},
        },
        summary=f"What the portal holds of {named}",
        name=f"get_{kind.value}",
    )
    def get_kind(item_id: ItemId, db: DB) -> ItemState:
        return held_item(db, kind, item_id)


for _row in KIND_ROUTES:
    _path = f"/items/{_row.kind.value}/{{item_id}}"
    _publish_route(_row, _path)
    _revoke_and_read_routes(_row.kind, _path)


@router.api_route(
    "/items/{kind}/{item_id}", methods=["PUT", "DELETE", "GET"], include_in_schema=False
)
def unknown_kind(kind: str, item_id: str) -> None:
    # Reached only when no route above matched: the kind is not one the portal knows.
    known = ", ".join(k.value for k in ItemKind)
    raise HTTPException(422, f"There is no item kind {kind!r}; the kinds are: {known}.")


def _upload_limit(config: ServiceConfig) -> int:
    return config.upload_limit_bytes


async def _raw_body(request: Request) -> bytes:
    return await request.body()


_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])


def _content_route(kind: ItemKind, summary: str) -> Callable[[_Endpoint], _Endpoint]:
    """PUT /items/{kind}/{item_id}/content: the raw bytes, at most the upload limit."""
    return router.put(
        f"/items/{kind.value}/{{item_id}}/content",
        response_model=ItemOut,
        responses=ERRORS,
        summary=summary,
        name=f"put_{kind.value}_content",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    # Not empty (422); at most the upload limit, which openapi.py fills in (413).
                    "application/octet-stream": {
                        "schema": {"type": "string", "format": "binary", "minLength": 1}
                    }
                },
            }
        },
    )


def _published_for_content(s: Session, kind: ItemKind, item_id: int, version: int) -> PortalItem:
    """The item whose bytes these are, locked; not_now while that version has not arrived."""
    item = s.get(PortalItem, (kind.value, item_id), with_for_update=True)
    if item is None or version > item.version:
        raise not_now(
            f"Version {version} of {kind.label} {item_id} has not been published yet: "
            f"send PUT /api/v1/items/{kind.value}/{item_id} first, then retry."
        )
    return item


@_content_route(ItemKind.DOCUMENT, "Upload a published document's bytes")
@raw_body_limit(_upload_limit)
@one_transaction
def put_document_content(
    request: Request,
    item_id: ItemId,
    version: VersionQuery,
    db: DB,
    _key: IdempotencyKey,
    content: Annotated[bytes, Depends(_raw_body)],
) -> Response:
    if not content:
        raise HTTPException(422, "The document content is empty.")
    digest = hashlib.sha256(content).hexdigest()

    def work(s: Session) -> ItemOut:
        item = _published_for_content(s, ItemKind.DOCUMENT, item_id, version)
        if version < item.version or not item.published:
            return _out(s, item, applied=False)  # stale, or revoked meanwhile
        blob = s.get(DocumentBlob, item_id, with_for_update=True)
        if blob is not None and blob.sha256 == digest:
            applied = blob.version != version
            blob.version = version
            return _out(s, item, applied=applied)
        if blob is None:
            s.add(DocumentBlob(item_id=item_id, version=version, sha256=digest, content=content))
        else:
            blob.version, blob.sha256, blob.content = version, digest, content
        s.flush()
        return _out(s, item, applied=True)

    return write_once(request, db, work, conflict=f"Document {item_id} changed meanwhile; retry.")


@_content_route(ItemKind.INVOICE, "Upload a published invoice's own PDF")
@raw_body_limit(_upload_limit)
@one_transaction
def put_invoice_content(
    request: Request,
    item_id: ItemId,
    version: VersionQuery,
    db: DB,
    _key: IdempotencyKey,
    content: Annotated[bytes, Depends(_raw_body)],
) -> Response:
    digest = hashlib.sha256(content).hexdigest()

    def work(s: Session) -> ItemOut:
        item = _published_for_content(s, ItemKind.INVOICE, item_id, version)
        if version < item.version or not item.published:
            return _out(s, item, applied=False)  # stale, or revoked meanwhile
        wanted = (item.data or {}).get("pdf_sha256")
        if wanted != digest:
            # Not the bytes the copy held names (the firm checks before it sends, so this is
            # a copy that moved on): taking them would serve the client another PDF.
            raise HTTPException(
                409,
                f"These bytes are not the PDF version {version} of invoice {item_id} names "
                f"(SHA-256 {wanted or 'none'}).",
            )
        # The portal serves these bytes as application/pdf: nothing else is taken in.
        if not content.startswith(b"%PDF-"):
            raise HTTPException(422, "An invoice's PDF must be a PDF file (starting with %PDF-).")
        held = s.get(InvoicePdf, item_id, with_for_update=True)
        if held is not None and held.sha256 == digest:
            return _out(s, item, applied=False)
        if held is not None:
            s.delete(held)
            s.flush()
        s.add(InvoicePdf(item_id=item_id, version=version, sha256=digest, content=content))
        s.flush()
        return _out(s, item, applied=True)

    return write_once(request, db, work, conflict=f"Invoice {item_id} changed meanwhile; retry.")
