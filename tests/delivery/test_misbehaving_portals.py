"""The PortalClient against servers that are not a well portal service: a tiny real HTTP server
on loopback answers each request as the test says. Nothing is ever lost: rows stay pending
(or fail for good, for a refusal a retry would not change), with a clear, lasting message."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from portal_tui.domain import ItemKind, OutboxOp, OutboxState, ShareState
from portal_tui.repository.portal_client import PortalClient
from portal_tui.repository.worker import run_pass
from portal_tui.sqltypes import utcnow
from portal_tui.store.models import OutboxEntry

from .support import Firm

VERSION = {"X-Portal-API-Version": "1"}
JSON = {"Content-Type": "application/json"}


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"applied": true, "version": 1}'
    headers: dict[str, str] = field(default_factory=lambda: {**VERSION, **JSON})
    delay: float = 0.0


class Scripted(ThreadingHTTPServer):
    daemon_threads = True
    answer = Answer()
    requests: list[tuple[str, str]]


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.command, self.path))
        answer = self.server.answer
        time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except OSError:
            pass  # the client gave up waiting

    do_GET = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[Scripted]:
    httpd = Scripted(("127.0.0.1", 0), Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _client(base: str, firm: Firm, timeout: float = 5.0) -> PortalClient:
    return PortalClient(
        base, "ptk_test", document_content=firm.repo.document_content, timeout=timeout
    )


def _shared_note(firm: Firm) -> int:
    note = firm.repo.add_note(firm.matters[0], subject="Call", body="Notes.")
    firm.repo.share(ItemKind.NOTE, note)
    return note


def _rows(firm: Firm) -> list[OutboxEntry]:
    with firm.repo.db.read() as s:
        return list(s.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def _detail(text: str) -> bytes:
    return json.dumps({"detail": text}).encode()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param(
            Answer(body=b"<html>It works!</html>"),
            "answered garbage (HTTP 200, not a JSON object); shares stay pending.",
            id="garbage",
        ),
        pytest.param(
            Answer(headers=JSON),
            "does not answer like a portal service (HTTP 200 without X-Portal-API-Version); "
            "check portal_url.",
            id="no-version-header",
        ),
        pytest.param(
            Answer(headers={**JSON, "X-Portal-API-Version": "2"}),
            "speaks API version '2'; this portal-tui knows version 1. Upgrade the one that is "
            "older.",
            id="version-2",
        ),
        pytest.param(
            Answer(401, _detail("A valid staff API token is needed")),
            "refused the staff token (401); set portal_token to a valid token "
            "(portal-tui token create --staff LOGIN).",
            id="401",
        ),
        pytest.param(
            Answer(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"}),
            "is not available (HTTP 502 from in front of it); shares stay pending and go out "
            "when it is back.",
            id="proxy-says-502",
        ),
    ],
)
def test_a_portal_that_cannot_be_used_stops_the_pass_and_keeps_everything_pending(
    server: Scripted, firm: Firm, answer: Answer, message: str
) -> None:
    note = _shared_note(firm)
    before = len(_rows(firm))
    server.answer = answer
    base = f"http://127.0.0.1:{server.server_port}"
    client = _client(base, firm)
    try:
        report = run_pass(firm.repo, client)
    finally:
        client.close()
    assert report.problem is not None and report.problem.endswith(message), report.problem
    assert base in report.problem
    assert firm.repo.delivery_problem() == report.problem  # lasting, for the app to show
    assert len(server.requests) == 1  # the pass stopped at once
    rows = _rows(firm)
    assert len(rows) == before
    assert {(r.state, r.attempts) for r in rows} == {(OutboxState.PENDING, 0)}
    assert firm.repo.share_state(ItemKind.NOTE, note).state is ShareState.PENDING


def test_a_closed_port_is_a_portal_that_cannot_be_reached(firm: Firm) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    client = _client(base, firm)
    try:
        report = run_pass(firm.repo, client)
    finally:
        client.close()
    assert report.problem == (
        f"The portal service at {base} cannot be reached (ConnectError); shares stay pending and "
        "go out when it is back."
    )
    assert firm.repo.delivery_problem() == report.problem
    assert {(r.state, r.attempts) for r in _rows(firm)} == {(OutboxState.PENDING, 0)}


@pytest.mark.parametrize("status", [409, 429, 503])
@pytest.mark.parametrize("retry_after", ["30", "date"])
def test_not_now_answers_are_retried_after_what_retry_after_says(
    server: Scripted, firm: Firm, status: int, retry_after: str
) -> None:
    when = format_datetime(utcnow() + timedelta(seconds=30), usegmt=True)
    headers = {**VERSION, **JSON, "Retry-After": when if retry_after == "date" else "30"}
    server.answer = Answer(status, _detail("Not now, retry in a moment."), headers)
    client = _client(f"http://127.0.0.1:{server.server_port}", firm)
    start = utcnow()
    try:
        report = firm.repo.deliver_pending(client)
    finally:
        client.close()
    rows = _rows(firm)
    assert report.retried == len(rows) == len(server.requests)
    assert report.problem is None and firm.repo.delivery_problem() is None
    for row in rows:
        assert (row.state, row.attempts) == (OutboxState.PENDING, 1)
        assert row.last_error == f"{status}: Not now, retry in a moment."
        wait = (row.next_attempt_at - start).total_seconds()
        assert 28 <= wait <= 32, wait


@pytest.mark.parametrize("status", [400, 413, 422])
def test_refusals_a_retry_would_not_change_fail_with_the_portals_reason(
    server: Scripted, firm: Firm, status: int
) -> None:
    welcoming = _client(f"http://127.0.0.1:{server.server_port}", firm)
    try:
        firm.repo.deliver_pending(welcoming)  # the firm, its matters and contacts
    finally:
        welcoming.close()
    note = _shared_note(firm)
    server.answer = Answer(status, _detail("data.subject: String should have at most 300"))
    client = _client(f"http://127.0.0.1:{server.server_port}", firm)
    try:
        report = firm.repo.deliver_pending(client)
    finally:
        client.close()
    reason = f"The portal refused it ({status}): data.subject: String should have at most 300"
    assert report.failed == 1 and report.failures[0][1] == reason
    (row,) = [r for r in _rows(firm) if r.op is OutboxOp.PUBLISH]
    assert (row.state, row.last_error) == (OutboxState.FAILED, reason)
    share = firm.repo.share_state(ItemKind.NOTE, note)
    assert (share.state, share.error) == (ShareState.FAILED, reason)


def test_a_portal_that_does_not_answer_in_time_is_retried_and_does_not_hold_the_pass(
    server: Scripted, firm: Firm
) -> None:
    for _ in range(5):
        _shared_note(firm)
    pending = firm.repo.pending_deliveries()
    server.answer = Answer(delay=2.0)
    client = _client(f"http://127.0.0.1:{server.server_port}", firm, timeout=0.3)
    started = time.monotonic()
    try:
        report = run_pass(firm.repo, client)
    finally:
        client.close()
    # Three requests in a row without an answer end the pass; the rest are not tried.
    assert time.monotonic() - started < 3.0
    assert len(server.requests) == 3 and report.retried == 3
    assert report.problem is not None
    assert report.problem.startswith("The portal service stopped answering (the portal at ")
    assert "did not answer in time" in report.problem
    assert firm.repo.delivery_problem() == report.problem
    rows = _rows(firm)
    assert firm.repo.pending_deliveries() == pending == len(rows)
    assert [r.attempts for r in rows] == [1, 1, 1] + [0] * (len(rows) - 3)
    assert all("did not answer in time" in (r.last_error or "") for r in rows[:3])
