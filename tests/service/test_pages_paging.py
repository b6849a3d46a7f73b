"""The client's invoice list (P2) a page at a time: newest first, 50 to a page, "Older" and
"Newer" walking a keyset cursor, on SQLite and PostgreSQL alike; and the page's cost kept
bounded — a handful of statements and one page of rows whatever the matter holds, no write
on an ordinary view (S7 still decided afresh on every page)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert, update

from portal_tui.domain.kinds import ItemKind
from portal_tui.service.app import create_app
from portal_tui.service.config import ServiceConfig
from portal_tui.service.models import ClientSession, PortalItem
from portal_tui.sqltypes import utcnow

from .pages.conftest import Browser, Portal, invoice_data

MATTER, OTHER_MATTER = 1, 2
ANN, CONTACT_ANN = 1, 101
PAGE = 50
LIST = f"/m/{MATTER}/invoices"


@pytest.fixture
def portal(database_url: str, tmp_path: Path) -> Iterator[Portal]:
    """The service on a fresh database, once on SQLite and once on PostgreSQL."""
    config = ServiceConfig(
        database_url=database_url,
        data_dir=tmp_path / "portal-data",
        base_url="http://testserver",
        send_mail=False,
        prune=False,
    )
    with TestClient(create_app(config)) as client:
        portal = Portal(db=client.app.state.db, client=client, config=config)  # type: ignore[attr-defined]
        portal.firm()
        portal.matter(MATTER, number="2025-0001", name="Estate of Smith")
        portal.matter(OTHER_MATTER, number="2025-0002", name="Jones v. Jones")
        portal.account(ANN, email="ann@example.com", name="Ann Smith")
        portal.contact(CONTACT_ANN, matter_id=MATTER, account_id=ANN)
        yield portal


def add_invoices(portal: Portal, rows: list[tuple[int, str | None]], matter: int = MATTER) -> None:
    """Published invoices (id, issued_on) in one statement: thousands take a moment."""
    values: list[dict[str, Any]] = []
    for item_id, issued in rows:
        data = invoice_data(f"INV-{item_id:05d}", total=10_000 + item_id, paid=item_id)
        if issued is None:
            del data["issued_on"]
        else:
            data["issued_on"] = issued
        values.append(
            {
                "kind": ItemKind.INVOICE.value,
                "item_id": item_id,
                "matter_id": matter,
                "published": True,
                "version": 1,
                "data": data,
                "published_at": utcnow(),
            }
        )
    with portal.db.write() as s:
        s.execute(insert(PortalItem), values)


ROW = re.compile(r'<a href="/m/\d+/invoices/(\d+)">')
LINK = re.compile(r'<a class="button-link" rel="(prev|next)" href="([^"]+)">')


def shown(page: str) -> list[int]:
    return [int(i) for i in ROW.findall(page)]


def links(page: str) -> dict[str, str]:
    """The pager's links: {"prev": Newer, "next": Older}."""
    return {rel: html.unescape(href) for rel, href in LINK.findall(page)}


def walk_older(ann: Browser) -> list[list[int]]:
    pages: list[list[int]] = []
    url: str | None = LIST
    while url is not None:
        answer = ann.get(url)
        assert answer.status_code == 200, answer.text
        pages.append(shown(answer.text))
        url = links(answer.text).get("next")
        assert len(pages) < 100, "the Older links never end"
    return pages


def test_p2_invoices_newest_first_fifty_a_page_and_older_newer_walk_them_all(
    portal: Portal,
) -> None:
    # 130 invoices issued three a day, two without a date, one whose date is not a date;
    # plus what must never show: an unpublished one and another matter's.
    start = date(2025, 1, 1)
    dated = [(i, (start + timedelta(days=i // 3)).isoformat()) for i in range(1, 131)]
    add_invoices(portal, [*dated, (500, None), (501, None), (502, "soon!")])
    add_invoices(portal, [(900, "2030-01-01")], matter=OTHER_MATTER)
    portal.item(ItemKind.INVOICE, 901, matter_id=MATTER, published=False)
    ann = portal.as_user(ANN)

    pages = walk_older(ann)

    # Newest first; the same day: the later id first; no usable date: last.
    newest_first = [i for i, _ in sorted(dated, key=lambda r: (r[1], r[0]), reverse=True)]
    assert [len(p) for p in pages] == [PAGE, PAGE, 33]
    assert [i for p in pages for i in p if i < 500] == newest_first
    assert pages[0][:4] == [130, 129, 128, 127]
    assert set(pages[-1][-3:]) == {500, 501, 502}
    everything = {i for page in pages for i in page}
    assert 900 not in everything and 901 not in everything

    first = ann.get(LIST).text
    assert "Older invoices" in first and "Newer invoices" not in first
    # From the last page back: Newer shows exactly the pages seen on the way down.
    last_url = links(ann.get(links(first)["next"]).text)["next"]
    last = ann.get(last_url).text
    assert "Older invoices" not in last
    back = ann.get(links(last)["prev"]).text
    assert shown(back) == pages[1]
    top = ann.get(links(back)["prev"]).text
    assert shown(top) == pages[0]
    assert "Newer invoices" not in top


def test_p2_few_invoices_is_one_page_without_pager_and_none_says_so(portal: Portal) -> None:
    ann = portal.as_user(ANN)
    assert "No invoices have been shared with you." in ann.get(LIST).text
    add_invoices(portal, [(1, "2025-03-01"), (2, "2025-02-01")])
    page = ann.get(LIST).text
    assert shown(page) == [1, 2]
    assert 'class="pager"' not in page


def test_p2_odd_or_stale_cursors_show_the_newest_page(portal: Portal) -> None:
    add_invoices(portal, [(i, f"2025-01-{i:02d}") for i in range(1, 21)])
    ann = portal.as_user(ANN)
    newest = shown(ann.get(LIST).text)
    for query in (
        "?before=garbage",
        "?before=_",
        "?before=2025-01-01_1",  # nothing is older than the oldest
        "?after=2025-01-20_20",  # nothing is newer than the newest
        "?after=" + "9" * 40,
        "?before=%3Cscript%3E_1",
    ):
        answer = ann.get(LIST + query)
        assert answer.status_code == 200, query
        assert shown(answer.text) == newest, query
        assert "<script>" not in answer.text


def test_p2_invoice_number_with_markup_shows_as_written(portal: Portal) -> None:
    data = invoice_data("<b>INV&1</b>\"'")
    portal.item(ItemKind.INVOICE, 7, matter_id=MATTER, data=data)
    page = portal.as_user(ANN).get(LIST).text
    assert "&lt;b&gt;INV&amp;1&lt;/b&gt;&#34;&#39;" in page
    assert "<b>INV" not in page


def test_s7_a_deep_page_is_gone_as_soon_as_access_is(portal: Portal) -> None:
    add_invoices(portal, [(i, f"2025-{1 + i % 12:02d}-01") for i in range(1, 121)])
    ann = portal.as_user(ANN)
    older = links(ann.get(LIST).text)["next"]
    assert ann.get(older).status_code == 200
    portal.set_contact(CONTACT_ANN, status="disabled")
    ended = ann.get(older)  # her only matter: the access has ended, and the page says so
    assert ended.status_code == 403 and "Your access to this portal has ended." in ended.text


class Statements:
    """The SQL a request runs, by the service's own engines."""

    def __init__(self, portal: Portal) -> None:
        self.seen: list[str] = []
        self.engines = {portal.db.reader, portal.db.writer}

    def __enter__(self) -> Statements:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._note)

    def _note(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement.strip().split(None, 1)[0].upper())

    @property
    def queries(self) -> list[str]:
        return [s for s in self.seen if s not in ("BEGIN", "COMMIT", "ROLLBACK")]

    @property
    def writes(self) -> list[str]:
        return [s for s in self.queries if s in ("INSERT", "UPDATE", "DELETE")]


def test_p2_thousands_of_invoices_one_bounded_page_few_statements_and_quick(
    portal: Portal,
) -> None:
    start = date(2015, 1, 1)
    add_invoices(portal, [(i, (start + timedelta(days=i // 2)).isoformat()) for i in range(5000)])
    portal.item(ItemKind.FORM, 77, matter_id=MATTER)  # the Forms menu has something to read
    ann = portal.as_user(ANN)
    ann.get(LIST)  # the session's first visit to the matter is remembered (C4): one write

    with Statements(portal) as run:
        first = ann.get(LIST)
    assert first.status_code == 200
    assert len(shown(first.text)) == PAGE
    # The session with the access, the page's rows, the Forms menu; nothing written.
    assert run.queries == ["SELECT", "SELECT", "SELECT"], run.seen
    assert len(first.content) < 40_000  # a page, not the matter

    # Deep in the list (20 pages down) it is still one bounded read.
    url = LIST
    for _ in range(20):
        url = links(ann.get(url).text)["next"]
    with Statements(portal) as run:
        deep = ann.get(url)
    assert len(shown(deep.text)) == PAGE and run.queries == ["SELECT", "SELECT", "SELECT"]
    assert shown(deep.text)[0] == 5000 - 1 - 20 * PAGE

    # Quick: the whole request, on a busy test machine, far below a second (loading and
    # rendering all 5,000 takes several).
    took = []
    for _ in range(3):
        started = time.perf_counter()
        ann.get(url)
        took.append(time.perf_counter() - started)
    assert sorted(took)[1] < 0.5, took


def test_s7_page_views_write_the_session_at_most_once_a_minute(portal: Portal) -> None:
    add_invoices(portal, [(1, "2025-03-01")])
    ann = portal.as_user(ANN)
    with Statements(portal) as run:
        ann.get(LIST)  # first time in this matter: remembered (C4)
    assert run.writes == ["UPDATE"]
    with Statements(portal) as run:
        for _ in range(5):
            assert ann.get(LIST).status_code == 200
    assert run.writes == []

    # Over a minute since the session was last seen: one write of last_seen_at, then none.
    with portal.db.write() as s:
        s.execute(update(ClientSession).values(last_seen_at=utcnow() - timedelta(seconds=90)))
    with Statements(portal) as run:
        ann.get(LIST)
        ann.get(LIST)
    assert run.writes == ["UPDATE"]

    # Idle past the time-out: the session ends (deleted) and the page asks to log in.
    idle = portal.config.session_idle_seconds
    with portal.db.write() as s:
        s.execute(update(ClientSession).values(last_seen_at=utcnow() - timedelta(seconds=idle)))
    answer = ann.get(LIST + "?before=2025-03-01_1")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    with portal.db.read() as s:
        assert s.query(ClientSession).count() == 0
