"""What flows back to the firm: the changes feed, client uploads' bytes, and the "new items"
email of a delivered batch."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import HTTPException, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from .. import feed
from ..mail import notices
from ..models import ClientUpload
from .auth import IdempotencyKey
from .common import DB, ERRORS, READ_ERRORS, Config, staff_router, write
from .schemas import BATCH_PATTERN, MAX_ID, BatchOut, ChangeOut, ChangesOut, ErrorOut

router = staff_router()

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR = 512
_SAFE_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")


@router.post(
    "/batches/{batch}/notify",
    response_model=BatchOut,
    responses=ERRORS,
    summary="Email the clients about a delivered batch",
    description="Call once every item of the batch has been published: one email per client "
    "for the whole batch (F5). Calling it again sends nothing more.",
)
def notify_batch(
    request: Request,
    batch: Annotated[str, Path(pattern=BATCH_PATTERN)],
    db: DB,
    config: Config,
    _key: IdempotencyKey,
) -> BatchOut:
    def work(s: Session) -> BatchOut:
        return BatchOut(batch=batch, queued=notices.queue_new_items(s, config, batch))

    return write(request, db, work, conflict=f"Batch {batch} is being notified meanwhile; retry.")


@router.get(
    "/changes",
    response_model=ChangesOut,
    responses={
        **READ_ERRORS,
        400: {
            "model": ErrorOut,
            "description": "A cursor this portal did not give out, or malformed firm headers",
        },
    },
    summary="What clients did, in order, from a cursor",
    description="Uploads, form submissions, replies, first views and downloads, activations "
    "and logins. Start without a cursor; then pass the one returned. The same cursor always "
    "gives the same changes, so a pass that failed half-way can simply be repeated.",
)
def changes(
    db: DB,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR,
            description="The cursor of the page before; one this portal did not give out is "
            "answered 400.",
            # Only stated: verify_cursor answers 400 (which portal-tui takes as "start again")
            # for any other, as for a forged one.
            json_schema_extra={"pattern": feed.CURSOR_PATTERN},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> ChangesOut:
    key = feed.cursor_key(db)
    try:
        after = feed.verify_cursor(key, cursor) if cursor else 0
    except feed.CursorError as exc:
        raise HTTPException(400, f"Bad cursor: {exc}. Start again without one.") from None
    with db.read() as s:
        page = feed.read_changes(s, after, limit)
        items = [
            ChangeOut(
                seq=c.seq, type=c.type, at=c.at, matter_id=c.matter_id, payload=dict(c.payload)
            )
            for c in page.changes
        ]
        consumed = feed.consumed_up_to(s)
    if consumed is not None and consumed < after:
        # A write only when the firm's cursor has moved on, not on every poll.
        with db.write() as s:
            feed.note_consumed(s, after)
    return ChangesOut(changes=items, cursor=feed.sign_cursor(key, page.last_seq), more=page.more)


@router.get(
    "/uploads/{upload_id}/content",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        404: {"model": ErrorOut, "description": "No such upload"},
        **READ_ERRORS,
    },
    summary="The bytes of a client's upload",
)
def upload_content(upload_id: Annotated[int, Path(ge=1, le=MAX_ID)], db: DB) -> Response:
    with db.read() as s:
        upload = s.scalar(
            select(ClientUpload)
            .where(ClientUpload.id == upload_id)
            .options(undefer(ClientUpload.content))
        )
        if upload is None:
            raise HTTPException(404, f"There is no client upload {upload_id}.")
        content, name, ctype, digest = (
            upload.content,
            upload.name,
            upload.content_type,
            upload.sha256,
        )
    media_type = ctype if _SAFE_TYPE.fullmatch(ctype or "") else "application/octet-stream"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": _attachment(name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "X-Content-SHA256": digest,
        },
    )


def _attachment(name: str) -> str:
    # An ASCII fallback for old readers, and the exact name in RFC 5987 form.
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name
    )
    return (
        f"attachment; filename=\"{fallback or 'upload'}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
