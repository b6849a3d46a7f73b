"""The relay in batches: consecutive item publishes and revokes go in one request (the portal's
POST /items/batch) and are settled in one transaction, each row by its own outcome, with
everything the one-row-at-a-time relay promises (versions, rejections, retries and backoff,
a broken or silent portal, one notice per bulk); a portal without batches gets one request
per row. Scripted transports show the bookkeeping; the portal service itself, in-process,
shows that the relay and the service agree."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from portal_tui.domain import ItemKind, OutboxOp, OutboxState, ShareState
from portal_tui.repository import delivery
from portal_tui.repository.delivery import (
    MAX_LOST_IN_A_ROW,
    Broken,
    Delivered,
    OutboxMessage,
    Outcome,
    Rejected,
    RetryLater,
)
from portal_tui.repository.portal_client import PortalClient
from portal_tui.service.app import create_app
from portal_tui.service.config import ServiceConfig
from portal_tui.service.tokens import create_token
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry

from .conftest import Firm


class Batches:
    """A portal that takes batches, answering each row with what `answer` says."""

    def __init__(self, answer: Callable[[OutboxMessage], Outcome] = lambda m: Delivered()):
        self.answer = answer
        self.requests: list[list[OutboxMessage]] = []

    def batchable(self, message: OutboxMessage) -> bool:
        return message.op in (OutboxOp.PUBLISH, OutboxOp.REVOKE) and message.kind != "document"

    def deliver(self, message: OutboxMessage) -> Outcome:
        self.requests.append([message])
        return self.answer(message)

    def deliver_many(self, messages: Sequence[OutboxMessage]) -> list[Outcome] | None:
        self.requests.append(list(messages))
        return [self.answer(m) for m in messages]

    @property
    def sizes(self) -> list[int]:
        return [len(r) for r in self.requests]


def _rows(firm: Firm) -> list[OutboxEntry]:
    with firm.system.db.read() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def _ready(firm: Firm) -> None:
    """The firm's own rows (its settings, the matter) delivered, as a first pass would."""
    firm.system.deliver_pending(Batches())


def _notes(firm: Firm, count: int) -> list[int]:
    return [firm.item(ItemKind.NOTE) for _ in range(count)]


def _states(firm: Firm, notes: list[int]) -> set[ShareState]:
    return {firm.admin.share_state(ItemKind.NOTE, n).state for n in notes}


def test_s0_a_bulk_share_goes_in_batches_each_row_settled_by_its_own_outcome(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ready(firm)
    notes = _notes(firm, 450)
    document = firm.item(ItemKind.DOCUMENT)
    items = [(ItemKind.NOTE, n) for n in notes[:300]] + [(ItemKind.DOCUMENT, document)]
    items += [(ItemKind.NOTE, n) for n in notes[300:]]
    firm.admin.share_many(items, share=True)
    calls: list[str] = []
    notify = delivery.DeliveryService._notify_when_batch_done

    def counted(self: delivery.DeliveryService, s: Any, batch: str) -> int | None:
        calls.append(batch)
        return notify(self, s, batch)

    monkeypatch.setattr(delivery.DeliveryService, "_notify_when_batch_done", counted)
    portal = Batches()
    report = firm.system.deliver_pending(portal, limit=1000)
    # 300 notes, the document on its own, 150 notes; batches of at most 200.
    assert portal.sizes == [200, 100, 1, 150]
    assert (report.delivered, report.failed, report.retried) == (451, 0, 0)
    assert _states(firm, notes) == {ShareState.SHARED}
    assert firm.admin.share_state(ItemKind.DOCUMENT, document).state is ShareState.SHARED
    # The bulk's notice is looked into once per request, not once per row, and queued once.
    assert len(calls) == 4
    notices = [r for r in _rows(firm) if r.op is OutboxOp.NOTIFY]
    assert len(notices) == 1 and notices[0].state is OutboxState.PENDING
    firm.system.deliver_pending(portal)
    assert portal.requests[-1][0].op is OutboxOp.NOTIFY and firm.system.pending_deliveries() == 0


def test_s0_rows_of_a_batch_are_delivered_refused_or_retried_each_on_its_own(
    firm: Firm,
) -> None:
    _ready(firm)
    notes = _notes(firm, 4)
    firm.admin.share_many([(ItemKind.NOTE, n) for n in notes], share=True)
    script: dict[int, Outcome] = {
        notes[0]: Delivered(),
        notes[1]: Rejected("The portal refused it (422): Invalid request: data.subject: long"),
        notes[2]: RetryLater("409: Matter 1 is not on the portal yet", after_seconds=30),
        notes[3]: Delivered(),
    }
    started = utcnow()
    report = firm.system.deliver_pending(Batches(lambda m: script[m.item_id or 0]))
    assert (report.delivered, report.failed, report.retried) == (2, 1, 1)
    refused = firm.admin.share_state(ItemKind.NOTE, notes[1])
    assert refused.state is ShareState.FAILED
    assert report.failures == [(report.failures[0][0], refused.error)]
    waiting = next(r for r in _rows(firm) if r.item_id == notes[2])
    assert (waiting.state, waiting.attempts) == (OutboxState.PENDING, 1)
    assert 28 <= (waiting.next_attempt_at - started).total_seconds() <= 32
    assert firm.admin.share_state(ItemKind.NOTE, notes[2]).state is ShareState.PENDING
    assert _states(firm, [notes[0], notes[3]]) == {ShareState.SHARED}
    # The bulk is not finished while a row waits: no notice yet; once it is, one.
    assert not [r for r in _rows(firm) if r.op is OutboxOp.NOTIFY]
    firm.system.deliver_pending(Batches(), now=utcnow() + timedelta(minutes=1))
    assert len([r for r in _rows(firm) if r.op is OutboxOp.NOTIFY]) == 1


def test_s7_a_late_answer_for_an_old_version_in_a_batch_leaves_the_newer_unshare(
    firm: Firm,
) -> None:
    _ready(firm)
    notes = _notes(firm, 2)
    for note in notes:
        firm.admin.share(ItemKind.NOTE, note)
    firm.admin.unshare(ItemKind.NOTE, notes[0])
    # Share and unshare of the first note ride in one batch: the share is answered, the
    # unshare is to be retried.
    portal = Batches(lambda m: RetryLater("x", 60) if m.op is OutboxOp.REVOKE else Delivered())
    firm.system.deliver_pending(portal)
    assert portal.sizes == [3]
    share = firm.admin.share_state(ItemKind.NOTE, notes[0])
    assert (share.wanted, share.state) == (False, ShareState.PENDING)
    assert firm.admin.share_state(ItemKind.NOTE, notes[1]).state is ShareState.SHARED


def test_a_broken_portal_in_a_batch_stops_the_pass_and_keeps_everything_pending(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ready(firm)
    monkeypatch.setattr(delivery, "BATCH_SIZE", 3)
    notes = _notes(firm, 7)
    firm.admin.share_many([(ItemKind.NOTE, n) for n in notes], share=True)
    portal = Batches(lambda m: Broken("The portal service at x refused the staff token (401)."))
    report = firm.system.deliver_pending(portal)
    assert portal.sizes == [3]  # the pass stopped at the first batch
    assert report.problem == firm.system.delivery_problem() is not None
    rows = [r for r in _rows(firm) if r.op is OutboxOp.PUBLISH]
    assert {(r.state, r.attempts) for r in rows} == {(OutboxState.PENDING, 0)}
    assert all(r.next_attempt_at <= utcnow() for r in rows)  # handed back, not leased
    assert _states(firm, notes) == {ShareState.PENDING}


def test_batches_lost_in_a_row_end_the_pass_and_are_sent_again_as_they_were(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ready(firm)
    monkeypatch.setattr(delivery, "BATCH_SIZE", 2)
    notes = _notes(firm, 9)
    firm.admin.share_many([(ItemKind.NOTE, n) for n in notes], share=True)
    silent = Batches(lambda m: RetryLater("the portal did not answer in time", lost=True))
    report = firm.system.deliver_pending(silent)
    assert silent.sizes == [2] * MAX_LOST_IN_A_ROW
    assert report.problem is not None and "stopped answering" in report.problem
    lost = [[m.id for m in r] for r in silent.requests]
    # Later, with every row due again, the lost batches go again row for row (so the
    # portal can answer each with what it stored, if it had applied it).
    firm.system.note_problem(None)
    back = Batches()
    firm.system.deliver_pending(back, now=utcnow() + timedelta(hours=1))
    assert [[m.id for m in r] for r in back.requests[: len(lost)]] == lost
    assert _states(firm, notes) == {ShareState.SHARED}


def test_a_transport_without_batches_is_sent_one_row_at_a_time(firm: Firm) -> None:
    _ready(firm)
    notes = _notes(firm, 3)
    firm.admin.share_many([(ItemKind.NOTE, n) for n in notes], share=True)
    sent: list[int] = []

    class OneByOne:
        def deliver(self, message: OutboxMessage) -> Outcome:
            sent.append(message.id)
            return Delivered()

    report = firm.system.deliver_pending(OneByOne())
    assert report.delivered == len(sent) == 3


# The portal client -----------------------------------------------------------------------


class Portal:
    """httpx's MockTransport as the portal: `batch` answers POST /items/batch (None: 404, a
    portal from before batches), every other request gets 200 as a single publish would."""

    def __init__(self, batch: Callable[[list[dict[str, Any]]], httpx.Response] | None) -> None:
        self.batch = batch
        self.requests: list[tuple[str, str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        self.requests.append((request.method, request.url.path, key))
        headers = {"X-Portal-API-Version": "1"}
        if request.url.path.endswith("/items/batch"):
            if self.batch is None:
                return httpx.Response(404, json={"detail": "Not Found"})
            operations = json.loads(request.content)["operations"]
            answer = self.batch(operations)
            answer.headers.update(headers)
            return answer
        return httpx.Response(200, json={"applied": True, "version": 1}, headers=headers)


def _client(portal: Portal) -> PortalClient:
    return PortalClient("http://portal.test", "ptk_test", transport=httpx.MockTransport(portal))


def _results(*statuses: tuple[int, str | None]) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "results": [
                {"status": status, "detail": detail, "retry_after": 7 if status == 409 else None}
                for status, detail in statuses
            ]
        },
    )


@pytest.fixture
def shared(firm: Firm) -> list[int]:
    _ready(firm)
    notes = _notes(firm, 4)
    firm.admin.share_many([(ItemKind.NOTE, n) for n in notes], share=True)
    return notes


def _messages(firm: Firm) -> list[OutboxMessage]:
    return [delivery._message(r) for r in _rows(firm) if r.state is OutboxState.PENDING]


def test_the_client_sorts_each_result_as_the_single_answer_would_be(
    firm: Firm, shared: list[int]
) -> None:
    portal = Portal(
        lambda ops: _results(
            (200, None),
            (409, "Matter 1 is not on the portal yet"),
            (422, "data.subject: long"),
            (500, "boom"),
        )
    )
    client = _client(portal)
    try:
        outcomes = client.deliver_many(_messages(firm))
    finally:
        client.close()
    assert outcomes == [
        Delivered(),
        RetryLater("409: Matter 1 is not on the portal yet", 7.0),
        Rejected("The portal refused it (422): data.subject: long"),
        RetryLater("500: boom", None),
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(
            httpx.Response(503, json={"detail": "busy"}, headers={"Retry-After": "9"}),
            RetryLater("503: busy", 9.0),
            id="retry-all",
        ),
        pytest.param(httpx.Response(200, json={"results": []}), "garbage", id="miscounted"),
        pytest.param(httpx.Response(200, text="<html>"), "garbage", id="not-json"),
        pytest.param(httpx.Response(401, json={"detail": "no"}), "token", id="401"),
    ],
)
def test_a_batch_answered_as_a_whole_is_each_rows_answer(
    firm: Firm, shared: list[int], answer: httpx.Response, expected: Outcome | str
) -> None:
    client = _client(Portal(lambda ops: answer))
    try:
        outcomes = client.deliver_many(_messages(firm))
    finally:
        client.close()
    assert outcomes is not None and len(outcomes) == 4
    if isinstance(expected, str):
        assert all(isinstance(o, Broken) and expected in o.reason for o in outcomes), outcomes
    else:
        assert outcomes == [expected] * 4


def test_a_batch_refused_as_a_whole_goes_again_one_row_at_a_time(
    firm: Firm, shared: list[int]
) -> None:
    portal = Portal(lambda ops: httpx.Response(413, json={"detail": "too large"}))
    client = _client(portal)
    try:
        report = firm.system.deliver_pending(client)
    finally:
        client.close()
    assert report.delivered == 4 and _states(firm, shared) == {ShareState.SHARED}
    assert portal.requests[0][1].endswith("/items/batch")
    assert len(portal.requests) == 1 + 4


def test_a_portal_without_batches_is_sent_one_request_per_row_from_then_on(
    firm: Firm, shared: list[int]
) -> None:
    portal = Portal(None)
    client = _client(portal)
    try:
        first = firm.system.deliver_pending(client)
        more = _notes(firm, 3)
        firm.admin.share_many([(ItemKind.NOTE, n) for n in more], share=True)
        second = firm.system.deliver_pending(client)
    finally:
        client.close()
    # The second pass: the three, and the first bulk's notice.
    assert (first.delivered, second.delivered) == (4, 4)
    batches = [r for r in portal.requests if r[1].endswith("/items/batch")]
    assert len(batches) == 1  # asked once; the rest went one by one
    assert len(portal.requests) == 1 + 4 + 4
    assert _states(firm, [*shared, *more]) == {ShareState.SHARED}


def test_the_same_rows_make_the_same_batch_key(firm: Firm, shared: list[int]) -> None:
    portal = Portal(lambda ops: _results(*[(200, None)] * len(ops)))
    client = _client(portal)
    try:
        messages = _messages(firm)
        client.deliver_many(messages)
        client.deliver_many(messages)
        client.deliver_many(messages[:3])
    finally:
        client.close()
    keys = [key for _, _, key in portal.requests]
    assert keys[0] == keys[1] != keys[2]
    assert keys[0] is not None and keys[0].startswith("batch-")


def test_documents_go_alone_and_revokes_go_in_batches(firm: Firm) -> None:
    client = PortalClient("http://portal.test", "ptk_test")
    try:
        note, document = firm.item(ItemKind.NOTE), firm.item(ItemKind.DOCUMENT)
        for kind, item in ((ItemKind.NOTE, note), (ItemKind.DOCUMENT, document)):
            firm.admin.share(kind, item)
            firm.admin.unshare(kind, item)
        ops = {(m.op, m.kind): client.batchable(m) for m in _messages(firm)}
    finally:
        client.close()
    assert ops[(OutboxOp.PUBLISH, "note")] and ops[(OutboxOp.REVOKE, "note")]
    assert ops[(OutboxOp.REVOKE, "document")]
    assert not ops[(OutboxOp.PUBLISH, "document")]
    assert not any(batchable for (op, _), batchable in ops.items() if op is OutboxOp.MATTER)


# The relay and the portal service together -------------------------------------------------


def test_s0_the_relay_and_the_portal_service_agree_on_batches(firm: Firm, tmp_path: Path) -> None:
    config = ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'portal.db'}",
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,
    )
    with TestClient(create_app(config)) as service:
        token = create_token(service.app.state.db, "relay")  # type: ignore[attr-defined]
        paths: list[str] = []

        def seen(request: httpx.Request) -> None:
            paths.append(request.url.path)

        relay = PortalClient(
            "http://testserver",
            token,
            document_content=firm.system.document_content,
            transport=service._transport,
        )
        relay._http.event_hooks["request"].append(seen)
        try:
            _ready_for_real(firm, relay)
            notes = _notes(firm, 30)
            document = firm.item(ItemKind.DOCUMENT)
            invoice = firm.item(ItemKind.INVOICE)
            items = [(ItemKind.NOTE, n) for n in notes]
            items += [(ItemKind.DOCUMENT, document), (ItemKind.INVOICE, invoice)]
            firm.admin.share_many(items, share=True)
            firm.admin.unshare(ItemKind.NOTE, notes[0])
            paths.clear()
            report = firm.system.deliver_pending(relay)
            assert (report.delivered, report.failed, report.problem) == (33, 0, None)
            assert paths.count("/api/v1/items/batch") == 2
            assert f"/api/v1/items/document/{document}/content" in paths
            firm.system.deliver_pending(relay)  # the bulk's notice
            assert firm.system.pending_deliveries() == 0
            held = relay._http.get(f"/items/note/{notes[0]}").json()
            assert (held["published"], held["version"]) == (False, 2)
            held = relay._http.get(f"/items/document/{document}").json()
            assert (held["published"], held["has_content"]) == (True, True)
        finally:
            relay.close()
    assert firm.admin.share_state(ItemKind.NOTE, notes[0]).state is ShareState.NOT_SHARED
    assert _states(firm, notes[1:]) == {ShareState.SHARED}
    assert firm.admin.share_state(ItemKind.INVOICE, invoice).state is ShareState.SHARED


def _ready_for_real(firm: Firm, relay: PortalClient) -> None:
    report = firm.system.deliver_pending(relay)
    assert report.problem is None and firm.system.pending_deliveries() == 0, report
