"""Many publishes and revokes in one request and one transaction: how the firm's relay
delivers a bulk share (S0) without a request and a commit per item.

Each operation is the single request's body with `op` ("publish" or "revoke"), `kind` and
`item_id`, checked as that request would be, and applied in order with the same versioning
(items.py: only a newer version changes anything). Each gets its own result: applied; stale
(a version not newer than the portal's: acknowledged, nothing changed); rejected, with the
reason (its 422); or retry, with the reason and Retry-After (its 409: its matter has not
arrived). One Idempotency-Key covers the batch: a replay answers the stored results. A batch
with an operation to retry is not stored, so the same key runs again and, everything else
being versioned, finds the rest stale.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request, Response
from sqlalchemy.orm import Session

from portal_tui.domain.kinds import ItemKind

from .auth import IdempotencyKey
from .common import DB, ERRORS, staff_router, write_once
from .idempotency import NOT_STORED, RETRY_AFTER_SECONDS
from .items import ItemWriter
from .route import one_transaction
from .schemas import (
    BatchItemResult,
    BatchPublish,
    BatchRevoke,
    InvalidOperation,
    ItemOut,
    ItemsBatchIn,
    ItemsBatchOut,
    ItemState,
)

router = staff_router()

Operation = BatchPublish | BatchRevoke | InvalidOperation


@router.post(
    "/items/batch",
    response_model=ItemsBatchOut,
    responses=ERRORS,
    summary="Publish and revoke many items at once",
    description="Up to 1000 operations, applied in order in one transaction, each as its "
    "single request (PUT or DELETE /items/{kind}/{item_id}) would be, with one result each. "
    "One Idempotency-Key for the whole batch. A document's bytes still go to "
    "PUT /items/document/{item_id}/content once its publish is applied.",
)
@one_transaction
def publish_batch(request: Request, body: ItemsBatchIn, db: DB, _key: IdempotencyKey) -> Response:
    operations: list[Operation] = list(body.operations)
    # Outside the transaction: it holds the writer's lock, this does not need it.
    stored = [
        op.data.model_dump(mode="json")
        if not isinstance(op, BatchRevoke | InvalidOperation)
        else None
        for op in operations
    ]

    def work(s: Session) -> ItemsBatchOut:
        valid = [op for op in operations if not isinstance(op, InvalidOperation)]
        writer = ItemWriter(
            s,
            [(op.kind, op.item_id) for op in valid],
            [op.matter_id for op in valid if op.matter_id is not None],
        )
        results = [_apply(writer, op, data) for op, data in zip(operations, stored, strict=True)]
        writer.flush()
        count = {kind: 0 for kind in ("applied", "stale", "rejected", "retry")}
        for result in results:
            count[result.result] += 1
        return ItemsBatchOut(results=results, **count)

    return write_once(
        request,
        db,
        work,
        conflict="Items of this batch changed meanwhile; retry.",
        keep=lambda out: out.retry == 0,
    )


def _apply(writer: ItemWriter, op: Operation, data: dict[str, Any] | None) -> BatchItemResult:
    if isinstance(op, InvalidOperation):
        return BatchItemResult(
            result="rejected",
            status=422,
            kind=ItemKind(op.kind) if op.kind is not None else None,
            item_id=op.item_id,
            detail=op.reason,
        )
    try:
        if isinstance(op, BatchRevoke):
            out = writer.revoke(op.kind, op.item_id, op.version, op.matter_id)
        else:
            assert data is not None
            out = writer.publish(op.kind, op.item_id, op, data)
    except HTTPException as exc:
        if exc.status_code not in NOT_STORED:
            raise
        return BatchItemResult(
            result="retry",
            status=exc.status_code,
            kind=op.kind,
            item_id=op.item_id,
            detail=str(exc.detail),
            retry_after=RETRY_AFTER_SECONDS,
        )
    return BatchItemResult(
        result="applied" if out.applied else "stale",
        status=200,
        kind=op.kind,
        item_id=op.item_id,
        item=_state(out),
    )


def _state(out: ItemOut) -> ItemState:
    return ItemState(
        kind=out.kind,
        item_id=out.item_id,
        matter_id=out.matter_id,
        published=out.published,
        version=out.version,
        has_content=out.has_content,
    )
