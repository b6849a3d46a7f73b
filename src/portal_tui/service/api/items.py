"""Publish and revoke shared items, and a document's bytes (S0-S7).

A publish is the item's desired state with the firm's version; a revoke drops the copy and
keeps a tombstone holding the version. Only a newer version changes anything, so a late retry
of an old share never undoes a newer unshare, and a replayed revoke never hides a newer share.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal_tui.domain.kinds import ItemKind
from portal_tui.sqltypes import utcnow

from ..config import ServiceConfig
from ..models import DocumentBlob, PortalItem
from .auth import IdempotencyKey
from .common import (
    DB,
    ERRORS,
    READ_ERRORS,
    known_matter,
    matter_or_placeholder,
    not_now,
    same_as_path,
    staff_router,
    write,
)
from .route import raw_body_limit
from .schemas import (
    MAX_ID,
    MAX_VERSION,
    ApiModel,
    ItemOut,
    ItemState,
    PublishBase,
    PublishDocument,
    PublishEvent,
    PublishForm,
    PublishInvoice,
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
        has_content = item.published and (
            s.scalar(select(DocumentBlob.item_id).where(DocumentBlob.item_id == item.item_id))
            is not None
        )
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


def publish(db: DB, kind: ItemKind, item_id: int, body: PublishBase, data: ApiModel) -> ItemOut:
    same_as_path("item_id", item_id, body.item_id)
    stored = data.model_dump(mode="json")

    def work(s: Session) -> ItemOut:
        item = s.get(PortalItem, (kind.value, item_id), with_for_update=True)
        if item is not None and body.version <= item.version:
            return _out(s, item, applied=False)
        known_matter(s, body.matter_id)
        if item is None:
            item = PortalItem(kind=kind.value, item_id=item_id, published=False)
            s.add(item)
        if not item.published:
            item.published_at = utcnow()
        item.matter_id = body.matter_id
        item.published = True
        item.version = body.version
        item.data = stored
        # Only items that should be announced join the batch's "new items" email.
        item.batch = body.batch if body.notify else None
        if kind is ItemKind.DOCUMENT:
            _keep_blob_if_same(s, item_id, stored.get("sha256"))
        s.flush()
        return _out(s, item, applied=True)

    return write(db, work, conflict=f"The {kind.label} {item_id} changed meanwhile; retry.")


def _keep_blob_if_same(s: Session, item_id: int, sha256: object) -> None:
    """A newer version of a document keeps its bytes only if they are known to be the same;
    otherwise the client sees it again once the new content has arrived."""
    blob = s.get(DocumentBlob, item_id, with_for_update=True)
    if blob is not None and (sha256 is None or blob.sha256 != sha256):
        s.delete(blob)


@router.put(
    "/items/invoice/{item_id}",
    response_model=ItemOut,
    responses=ERRORS,
    summary="Publish an invoice",
)
def publish_invoice(item_id: ItemId, body: PublishInvoice, db: DB, _key: IdempotencyKey) -> ItemOut:
    return publish(db, ItemKind.INVOICE, item_id, body, body.data)


@router.put(
    "/items/event/{item_id}",
    response_model=ItemOut,
    responses=ERRORS,
    summary="Publish a calendar event",
)
def publish_event(item_id: ItemId, body: PublishEvent, db: DB, _key: IdempotencyKey) -> ItemOut:
    return publish(db, ItemKind.EVENT, item_id, body, body.data)


@router.put(
    "/items/task/{item_id}", response_model=ItemOut, responses=ERRORS, summary="Publish a task"
)
def publish_task(item_id: ItemId, body: PublishTask, db: DB, _key: IdempotencyKey) -> ItemOut:
    return publish(db, ItemKind.TASK, item_id, body, body.data)


@router.put(
    "/items/note/{item_id}", response_model=ItemOut, responses=ERRORS, summary="Publish a note"
)
def publish_note(item_id: ItemId, body: PublishNote, db: DB, _key: IdempotencyKey) -> ItemOut:
    return publish(db, ItemKind.NOTE, item_id, body, body.data)


@router.put(
    "/items/document/{item_id}",
    response_model=ItemOut,
    responses=ERRORS,
    summary="Publish a document's details",
)
def publish_document(
    item_id: ItemId, body: PublishDocument, db: DB, _key: IdempotencyKey
) -> ItemOut:
    return publish(db, ItemKind.DOCUMENT, item_id, body, body.data)


@router.put(
    "/items/message/{item_id}",
    response_model=ItemOut,
    responses=ERRORS,
    summary="Publish a message",
)
def publish_message(item_id: ItemId, body: PublishMessage, db: DB, _key: IdempotencyKey) -> ItemOut:
    return publish(db, ItemKind.MESSAGE, item_id, body, body.data)


@router.put(
    "/items/form/{item_id}",
    response_model=ItemOut,
    responses=ERRORS,
    summary="Publish an intake form",
)
def publish_form(item_id: ItemId, body: PublishForm, db: DB, _key: IdempotencyKey) -> ItemOut:
    return publish(db, ItemKind.FORM, item_id, body, body.data)


@router.put("/items/{kind}/{item_id}", include_in_schema=False)
def publish_unknown_kind(kind: str, item_id: str) -> None:
    # Reached only when no route above matched: the kind is not one the portal knows.
    known = ", ".join(k.value for k in ItemKind)
    raise HTTPException(422, f"There is no item kind {kind!r}; the kinds are: {known}.")


@router.delete(
    "/items/{kind}/{item_id}",
    response_model=ItemOut,
    responses=ERRORS,
    summary="Revoke (unshare) an item",
)
def revoke(
    kind: ItemKind,
    item_id: ItemId,
    version: VersionQuery,
    db: DB,
    _key: IdempotencyKey,
    matter_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_ID,
            description="The item's matter. Pass it: for an item the portal never had, it "
            "lets the tombstone be kept, so a late publish of an older version cannot "
            "bring the item back.",
        ),
    ] = None,
) -> ItemOut:
    def work(s: Session) -> ItemOut:
        item = s.get(PortalItem, (kind.value, item_id), with_for_update=True)
        if item is not None and version <= item.version:
            return _out(s, item, applied=False)
        if item is None:
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
            matter_or_placeholder(s, matter_id)
            item = PortalItem(kind=kind.value, item_id=item_id, matter_id=matter_id)
            s.add(item)
        item.published = False
        item.version = version
        item.data = None
        item.batch = None
        if kind is ItemKind.DOCUMENT:
            blob = s.get(DocumentBlob, item_id, with_for_update=True)
            if blob is not None:
                s.delete(blob)
        s.flush()
        return _out(s, item, applied=True)

    return write(db, work, conflict=f"The {kind.label} {item_id} changed meanwhile; retry.")


@router.get(
    "/items/{kind}/{item_id}",
    response_model=ItemState,
    responses={**READ_ERRORS, 404: ERRORS[401] | {"description": "The portal never had it"}},
    summary="What the portal holds of an item",
)
def get_item(kind: ItemKind, item_id: ItemId, db: DB) -> ItemState:
    with db.read() as s:
        item = s.get(PortalItem, (kind.value, item_id))
        if item is None:
            raise HTTPException(404, f"The portal has no {kind.label} {item_id}.")
        return _state(s, item)


def _upload_limit(config: ServiceConfig) -> int:
    return config.upload_limit_bytes


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.put(
    "/items/document/{item_id}/content",
    response_model=ItemOut,
    responses=ERRORS,
    summary="Upload a published document's bytes",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
@raw_body_limit(_upload_limit)
def put_document_content(
    item_id: ItemId,
    version: VersionQuery,
    db: DB,
    _key: IdempotencyKey,
    content: Annotated[bytes, Depends(_raw_body)],
) -> ItemOut:
    if not content:
        raise HTTPException(422, "The document content is empty.")
    digest = hashlib.sha256(content).hexdigest()

    def work(s: Session) -> ItemOut:
        item = s.get(PortalItem, (ItemKind.DOCUMENT.value, item_id), with_for_update=True)
        if item is None or version > item.version:
            raise not_now(
                f"Version {version} of document {item_id} has not been published yet: "
                f"send PUT /api/v1/items/document/{item_id} first, then retry."
            )
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

    return write(db, work, conflict=f"Document {item_id} changed meanwhile; retry.")
